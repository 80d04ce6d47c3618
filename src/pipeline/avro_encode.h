// Confluent-framed Avro encoding of a user_record with the contract schema
// (contract/user.avsc): magic byte 0, the 4-byte big-endian schema id, then the Avro
// binary. Every field of the contract is a ["null","string"] union, so the encoding is
// written directly (zig-zag varint branch, then varint length and bytes): it is on the
// producer's hot path, and avro-c's generic value API would cost several allocations per
// field. The unit test checks the bytes against avro-c's own encoder.
#pragma once

#include <cstdint>
#include <string>

#include "model/user.h"

namespace sluice::pipeline {

/// Appends the plain Avro binary of `record` (no framing) to `out`.
void append_avro_binary(const model::user_record& record, std::string& out);

/// Appends the framed encoding of `record` to `out`.
void append_confluent_avro(const model::user_record& record, std::int32_t schema_id,
                           std::string& out);

}  // namespace sluice::pipeline
