// POSIX process plumbing for the launcher (fork/exec with setsid, signals, /proc).
#include "stack/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/error.h"

namespace sluice::stack {
namespace {

/// In the forked child: redirections, session, user, environment, then exec. `stdin_fd`
/// (or /dev/null when there is a log file and no stdin_fd) becomes stdin.
[[noreturn]] void exec_child(const spawn_request& request, bool new_session, int stdin_fd) {
  if (new_session) setsid();
  if (!request.log_file.empty()) {
    // Logs may quote data and settings: only the stack's owner reads them.
    int fd = ::open(request.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      struct stat st {};
      // Also a log made by an older version; never a device such as /dev/null.
      if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) fchmod(fd, 0600);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    if (stdin_fd < 0) stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (stdin_fd >= 0) dup2(stdin_fd, STDIN_FILENO);
  if (!request.working_dir.empty() && chdir(request.working_dir.c_str()) != 0) _exit(126);
  if (!request.run_as_user.empty()) {
    passwd* pw = getpwnam(request.run_as_user.c_str());
    if (!pw || initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
      _exit(126);
    }
    setenv("HOME", pw->pw_dir, 1);
    setenv("USER", pw->pw_name, 1);
  }
  for (const auto& kv : request.extra_env) putenv(const_cast<char*>(kv.c_str()));
  std::vector<char*> args;
  for (const auto& a : request.argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

int fork_child(const spawn_request& request, bool new_session, int stdin_fd = -1) {
  if (request.argv.empty()) throw fatal_error("internal: spawn with an empty command");
  pid_t pid = fork();
  if (pid < 0) {
    throw fatal_error(
        fmt::format("cannot start {}: fork failed: {}", request.argv[0], std::strerror(errno)));
  }
  if (pid == 0) exec_child(request, new_session, stdin_fd);
  return pid;
}

/// Writes all of `text` to `fd` (a pipe the child may close early: SIGPIPE is ignored).
void write_all_to_pipe(int fd, const std::string& text) {
  auto* previous = signal(SIGPIPE, SIG_IGN);
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  signal(SIGPIPE, previous);
}

}  // namespace

int spawn_detached(const spawn_request& request) {
  return fork_child(request, true);
}

int run_and_wait(const spawn_request& request) {
  int pid = 0;
  if (request.stdin_text.empty()) {
    pid = fork_child(request, false);
  } else {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      throw fatal_error(
          fmt::format("cannot start {}: pipe failed: {}", request.argv[0], std::strerror(errno)));
    }
    pid = fork_child(request, false, fds[0]);
    ::close(fds[0]);
    write_all_to_pipe(fds[1], request.stdin_text);
    ::close(fds[1]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie child counts as dead.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content;
  std::getline(stat, content);
  auto close_paren = content.rfind(')');
  if (close_paren != std::string::npos && close_paren + 2 < content.size()) {
    return content[close_paren + 2] != 'Z';
  }
  return true;
}

bool child_exited(int pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return true;
  return !process_alive(pid);
}

void write_pid_file(const std::filesystem::path& file, int pid) {
  auto start = process_start_ticks(pid);
  {
    std::ofstream out(file, std::ios::trunc);
    out << pid;
    if (start) out << ' ' << *start;
    out << '\n';
    if (!out) throw fatal_error(fmt::format("cannot write pid file {}", file.string()));
  }
  std::error_code ec;  // the file names a process to signal: only its owner may change it
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
}

std::optional<pid_record> read_pid_record(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  std::istringstream fields(line);
  pid_record record;
  if (!(fields >> record.pid) || record.pid <= 0) return std::nullopt;
  unsigned long long ticks = 0;
  if (fields >> ticks) record.start_ticks = ticks;
  std::string extra;
  if (fields >> extra) return std::nullopt;  // not a file we wrote
  return record;
}

std::optional<int> read_pid_file(const std::filesystem::path& file) {
  auto record = read_pid_record(file);
  if (!record) return std::nullopt;
  return record->pid;
}

std::optional<unsigned long long> process_start_ticks(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content;
  std::getline(stat, content);
  auto close_paren = content.rfind(')');  // the command name may hold spaces and parens
  if (close_paren == std::string::npos || close_paren + 2 >= content.size()) return std::nullopt;
  std::istringstream fields(content.substr(close_paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) {
      char* end = nullptr;
      unsigned long long ticks = std::strtoull(field.c_str(), &end, 10);
      if (end != field.c_str() && *end == '\0') return ticks;
    }
  }
  return std::nullopt;
}

bool is_recorded_process(const pid_record& record) {
  if (!process_alive(record.pid)) return false;
  return !record.start_ticks || process_start_ticks(record.pid) == record.start_ticks;
}

bool stop_process(int pid, int signal, std::chrono::seconds grace) {
  if (!process_alive(pid)) return true;
  kill(pid, signal);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    waitpid(pid, nullptr, WNOHANG);
    if (!process_alive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  kill(pid, SIGKILL);
  for (int i = 0; i < 50 && process_alive(pid); ++i) {
    waitpid(pid, nullptr, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !process_alive(pid);
}

long process_uptime_seconds(int pid) {
  auto start_ticks = process_start_ticks(pid);
  if (!start_ticks) return 0;
  std::ifstream uptime_file("/proc/uptime");
  double system_uptime = 0;
  uptime_file >> system_uptime;
  long ticks = sysconf(_SC_CLK_TCK);
  return static_cast<long>(system_uptime - static_cast<double>(*start_ticks) / ticks);
}

long process_rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string process_command_line(int pid, std::size_t max_length) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto& c : raw) {
    if (c == '\0') c = ' ';
  }
  if (raw.size() > max_length) raw = raw.substr(0, max_length - 3) + "...";
  return raw;
}

bool port_open(const std::string& host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return open;
}

std::string port_holder(int port) {
  // Find the socket inode listening on the port, then the process owning that inode.
  std::string inode;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, ino;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> ino;
      auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) inode = ino;
    }
  }
  if (inode.empty()) return "an unknown process";
  std::string target = "socket:[" + inode + "]";
  for (const auto& proc : std::filesystem::directory_iterator("/proc")) {
    auto name = proc.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", ec)) {
      std::error_code link_ec;
      if (std::filesystem::read_symlink(fd.path(), link_ec).string() == target) {
        int pid = std::stoi(name);
        return fmt::format("pid {} ({})", pid, process_command_line(pid));
      }
    }
  }
  return "another process";
}

std::string tail_file(const std::filesystem::path& file, int lines) {
  std::ifstream in(file);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    " + l + "\n";
  return out;
}

}  // namespace sluice::stack
