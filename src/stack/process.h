// Process management for the launcher: start a detached child (own session, output to
// a log file, optionally as another user), pid files, liveness, graceful stop, and
// /proc readings (uptime, resident memory, who holds a port).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sluice::stack {

struct spawn_request {
  std::vector<std::string> argv;
  std::filesystem::path log_file;      // stdout and stderr are appended here
  std::filesystem::path working_dir;   // empty: inherit
  std::vector<std::string> extra_env;  // "KEY=value"
  std::string run_as_user;             // empty: the current user
  std::string stdin_text;  // run_and_wait only: the child's stdin (secrets never go on argv)
};

/// Starts the process in its own session and returns its pid. Throws fatal_error when
/// the program cannot be started.
int spawn_detached(const spawn_request& request);

/// Runs a command to completion (output to the log file, or inherited when empty; stdin
/// from `stdin_text`) and returns its exit code.
int run_and_wait(const spawn_request& request);

bool process_alive(int pid);
/// Reaps the child if it was ours and has exited (so a dead engine is noticed).
bool child_exited(int pid);

/// What a pid file holds: the pid and the process's start time (clock ticks after boot,
/// /proc/PID/stat field 22). A pid is reused by any later process; pid and start time
/// together name one process. Files written before the start time was kept have none.
struct pid_record {
  int pid = 0;
  std::optional<unsigned long long> start_ticks;
};

/// Writes "PID START_TICKS" (mode 0600): the start time is read now, from /proc.
void write_pid_file(const std::filesystem::path& file, int pid);
std::optional<pid_record> read_pid_record(const std::filesystem::path& file);
std::optional<int> read_pid_file(const std::filesystem::path& file);
/// When the process started (clock ticks after boot), or nothing if it does not exist.
std::optional<unsigned long long> process_start_ticks(int pid);
/// True when the recorded process is alive and still the same one: its start time is the
/// recorded one (a record without a start time cannot tell, and only checks liveness).
bool is_recorded_process(const pid_record& record);

/// Sends `signal`, waits up to `grace`, then SIGKILL. Returns true when it is gone.
bool stop_process(int pid, int signal, std::chrono::seconds grace);

long process_uptime_seconds(int pid);
long process_rss_kib(int pid);
/// The command line, cut to `max_length` characters for display.
std::string process_command_line(int pid, std::size_t max_length = 120);

/// True when something accepts TCP connections on host:port.
bool port_open(const std::string& host, int port);
/// "pid 1234 (java -cp ...)" for the process listening on the port, if it can be found.
std::string port_holder(int port);

/// The last `lines` lines of a text file (for "engine died" messages).
std::string tail_file(const std::filesystem::path& file, int lines);

}  // namespace sluice::stack
