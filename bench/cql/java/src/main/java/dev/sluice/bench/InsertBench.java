// bench/cql reference: prepared single-row inserts of the users in a JSON-lines file
// (written by `sluice gen`) through the DataStax Java driver, with a fixed number of
// requests in flight. Prints the same line as bench/cql/inserts.cc:
//   <rows/s> rows/s (<n> rows in <s> s, <failed> failed) p50 <ms> ms p99 <ms> ms cpu <s> s
//   (cpu: the process's CPU time, every thread, during the timed pass)
package dev.sluice.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

public final class InsertBench {
  private static final String UPSERT =
      "INSERT INTO users (id, first_name, last_name, email, phone, gender, dob, address, "
          + "postcode, username, registered_date, picture, contract_version, schema_id, "
          + "source_topic, source_partition, source_offset, produced_at) "
          + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  public static void main(String[] args) throws Exception {
    if (args.length != 6 && args.length != 7) {
      System.err.println(
          "usage: InsertBench USERS.jsonl HOST PORT DATACENTER KEYSPACE WINDOW [WARMUP_PASSES]");
      System.exit(2);
    }
    int warmup = args.length == 7 ? Integer.parseInt(args[6]) : 0;
    List<JsonNode> users = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(Path.of(args[0]))) users.add(json.readTree(line));
    int window = Integer.parseInt(args[5]);
    try (CqlSession session =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress(args[1], Integer.parseInt(args[2])))
            .withLocalDatacenter(args[3])
            .withKeyspace(args[4])
            .build()) {
      PreparedStatement upsert = session.prepare(UPSERT);
      List<BoundStatement> statements = new ArrayList<>(users.size());
      for (int i = 0; i < users.size(); i++) statements.add(bind(upsert, users.get(i), i));
      long[] latencies = new long[statements.size()];
      Semaphore inFlight = new Semaphore(window);
      AtomicLong failed = new AtomicLong();
      // Untimed passes over the same rows first, so that the JIT has compiled the hot path
      // before the timed one (the C++ client gets the same passes: --warmup).
      for (int pass = 0; pass < warmup; pass++) {
        for (BoundStatement statement : statements) {
          inFlight.acquire();
          session.executeAsync(statement).whenComplete((result, error) -> inFlight.release());
        }
        inFlight.acquire(window);
        inFlight.release(window);
      }
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpuStarted = os.getProcessCpuTime();
      long started = System.nanoTime();
      for (int i = 0; i < statements.size(); i++) {
        inFlight.acquire();
        final int index = i;
        final long sent = System.nanoTime();
        session
            .executeAsync(statements.get(i))
            .whenComplete(
                (result, error) -> {
                  latencies[index] = System.nanoTime() - sent;
                  if (error != null) failed.incrementAndGet();
                  inFlight.release();
                });
      }
      inFlight.acquire(window);
      double seconds = (System.nanoTime() - started) / 1e9;
      double cpuSeconds = (os.getProcessCpuTime() - cpuStarted) / 1e9;
      Arrays.sort(latencies);
      System.out.printf(
          "%.0f rows/s (%d rows in %.2f s, %d failed) p50 %.2f ms p99 %.2f ms cpu %.2f s%n",
          statements.size() / seconds,
          statements.size(),
          seconds,
          failed.get(),
          latencies[(int) (0.5 * (latencies.length - 1))] / 1e6,
          latencies[(int) (0.99 * (latencies.length - 1))] / 1e6,
          cpuSeconds);
    }
  }

  private static BoundStatement bind(PreparedStatement upsert, JsonNode u, int index) {
    return upsert.bind(
        UUID.fromString(u.get("id").asText()),
        u.get("first_name").asText(),
        u.get("last_name").asText(),
        u.get("email").asText(),
        u.get("phone").asText(),
        u.get("gender").asText(),
        LocalDate.parse(u.get("dob").asText()),
        u.get("address").asText(),
        u.get("postcode").asText(),
        u.get("username").asText(),
        Instant.parse(u.get("registered_date").asText()),
        u.get("picture").asText(),
        1,
        1,
        "users.raw",
        0,
        (long) index,
        Instant.ofEpochMilli(0));
  }
}
