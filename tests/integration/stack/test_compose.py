"""Static checks of docker-compose.yml (no Docker engine runs here): it parses, every
image is pinned to a version, and the published ports are those `sluice up` uses."""

from pathlib import Path

import yaml


def load(repo: Path) -> dict:
    return yaml.safe_load((repo / "docker-compose.yml").read_text())


def test_every_image_is_pinned_to_a_version(repo: Path) -> None:
    services = load(repo)["services"]
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        assert ":" in image, f"{name}: {image} is not pinned"
        assert not image.endswith(":latest"), f"{name}: {image} uses latest"


def test_published_ports_match_the_launcher_defaults(repo: Path) -> None:
    services = load(repo)["services"]
    published = {name: s.get("ports", []) for name, s in services.items()}
    assert "127.0.0.1:9092:9092" in published["kafka"]
    assert "127.0.0.1:9042:9042" in published["cassandra"]
    assert "127.0.0.1:5433:5432" in published["postgres"]
    assert "127.0.0.1:8081:8081" in published["registry"]
    assert "127.0.0.1:8080:8080" in published["api"]
    assert "127.0.0.1:9000:9000" in published["ui"]


def test_every_published_port_is_on_loopback_only(repo: Path) -> None:
    # A bare "9042:9042" publishes on every interface of the Docker host.
    for name, service in load(repo)["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_the_console_binds_beyond_loopback_only_with_a_token_from_a_mounted_file(
    repo: Path,
) -> None:
    ui = load(repo)["services"]["ui"]
    command = ui["command"]
    assert command[command.index("--bind") + 1] == "0.0.0.0"
    token_file = command[command.index("--token-file") + 1]
    assert any(volume.endswith(f":{token_file}:ro") for volume in ui["volumes"])
    assert "SLUICE_UI_TOKEN" not in str(ui.get("environment", {}))


def test_dockerfile_base_images_are_pinned(repo: Path) -> None:
    for line in (repo / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            image = line.split()[1]
            assert ":" in image and not image.endswith(":latest"), line


def test_spark_services_run_the_pinned_spark_and_the_job_against_the_master(repo: Path) -> None:
    services = load(repo)["services"]
    for name in ("spark-master", "spark-worker"):
        assert services[name]["image"] == "apache/spark:3.5.7-scala2.12-java17-python3-ubuntu"
    command = services["spark"]["command"]
    assert command[command.index("--master") + 1] == "spark://spark-master:7077"
    assert "spark://spark-master:7077" in services["spark-worker"]["command"]
    assert "127.0.0.1:9472:9472" in services["spark"]["ports"]
    dockerfile = (repo / "spark" / "Dockerfile").read_text()
    # The same pyspark as the lock, and the image's Spark the same version.
    assert "pyspark==3.5.7" in (repo / "spark" / "requirements.lock").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("FROM "):
            image = line.split()[1]
            assert ":" in image and not image.endswith(":latest"), line


def test_airflow_services_run_the_pinned_airflow_with_secrets_from_files_only(repo: Path) -> None:
    services = load(repo)["services"]
    airflow = {n: s for n, s in services.items() if n.startswith("airflow-")}
    assert set(airflow) == {
        "airflow-migrate",
        "airflow-api",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    }
    for name, service in airflow.items():
        assert service["image"] == "apache/airflow:3.3.2-python3.11", name
        env = service["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD"].startswith("cat /run/secrets/")
        assert not any("PASSWORD" in k and not k.endswith("_FILE") for k in env), name
        assert env["AIRFLOW__CORE__PARALLELISM"] == "2"
    assert "127.0.0.1:8082:8082" in services["airflow-api"]["ports"]
    assert "POSTGRES_PASSWORD" not in services["postgres"]["environment"]
    # The version the stack installs from the lock is the image's.
    assert "apache-airflow==3.3.2" in (repo / "airflow" / "requirements.lock").read_text()
