"""Reference generator for bench/gen: Python Faker producing the same twelve contract
fields as `sluice gen`, one JSON object per line."""

import json
import sys
import uuid

from faker import Faker


def main() -> None:
    count = int(sys.argv[1])
    fake = Faker()
    Faker.seed(1)
    out = sys.stdout
    for _ in range(count):
        gender = fake.random_element(("male", "female"))
        first = fake.first_name_female() if gender == "female" else fake.first_name_male()
        last = fake.last_name()
        record = {
            "id": str(uuid.UUID(int=fake.random.getrandbits(128), version=4)),
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}@example.com".lower(),
            "phone": fake.phone_number(),
            "gender": gender,
            "dob": fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
            "address": fake.address().replace("\n", ", "),
            "postcode": fake.postcode(),
            "username": fake.user_name(),
            "registered_date": fake.date_time_between("-20y", "now").isoformat() + "Z",
            "picture": fake.image_url(),
        }
        out.write(json.dumps(record))
        out.write("\n")


if __name__ == "__main__":
    main()
