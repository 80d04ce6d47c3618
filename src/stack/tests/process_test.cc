// Tests of the launcher's process plumbing with real child processes and sockets.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "stack/process.h"

namespace sluice::stack {
namespace {

TEST(StackProcess, DetachedChildRunsUntilStoppedAndLogsToItsFile) {
  auto log = std::filesystem::temp_directory_path() / ("sluice-proc-" + std::to_string(getpid()));
  std::filesystem::remove(log);
  int pid = spawn_detached({{"sh", "-c", "echo started; exec sleep 30"}, log, {}, {}, {}});
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(process_alive(pid));
  // Wait (bounded) for the child to write its first line.
  for (int i = 0; i < 100 && tail_file(log, 5).find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(stop_process(pid, SIGTERM, std::chrono::seconds(5)));
  EXPECT_FALSE(process_alive(pid));
  EXPECT_NE(tail_file(log, 5).find("started"), std::string::npos);
}

TEST(StackProcess, RunAndWaitReturnsTheExitCode) {
  EXPECT_EQ(run_and_wait({{"sh", "-c", "exit 7"}, "/dev/null", {}, {}, {}}), 7);
  struct stat null_device {};  // a log on a device is used as it is, never made 0600
  ASSERT_EQ(stat("/dev/null", &null_device), 0);
  EXPECT_EQ(null_device.st_mode & 0777, 0666);
}

TEST(StackProcess, PortHolderNamesThisProcess) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  EXPECT_TRUE(port_open("127.0.0.1", port));
  EXPECT_NE(port_holder(port).find("pid " + std::to_string(getpid())), std::string::npos);
  close(fd);
  EXPECT_FALSE(port_open("127.0.0.1", port));
}

TEST(StackProcess, PidFileRoundTripsAndGarbageIsIgnored) {
  auto file = std::filesystem::temp_directory_path() / "sluice-pid-test";
  write_pid_file(file, 4242);
  EXPECT_EQ(read_pid_file(file), 4242);
  std::ofstream(file) << "garbage";
  EXPECT_FALSE(read_pid_file(file).has_value());
  std::ofstream(file) << "4242 17 trailing";
  EXPECT_FALSE(read_pid_file(file).has_value());
  std::ofstream(file) << "4242\n";  // written before start times were kept
  auto legacy = read_pid_record(file);
  ASSERT_TRUE(legacy.has_value());
  EXPECT_EQ(legacy->pid, 4242);
  EXPECT_FALSE(legacy->start_ticks.has_value());
}

TEST(StackProcess, PidFileOfALiveProcessRecordsItsStartTimeAndIsOwnerOnly) {
  auto file = std::filesystem::temp_directory_path() / "sluice-pid-self";
  write_pid_file(file, getpid());
  auto record = read_pid_record(file);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->start_ticks, process_start_ticks(getpid()));
  EXPECT_TRUE(is_recorded_process(*record));
  auto perms = std::filesystem::status(file).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  std::filesystem::remove(file);
}

TEST(StackProcess, ARecordWhosePidWasReusedByALaterProcessIsNotThatProcess) {
  pid_record reused{getpid(), *process_start_ticks(getpid()) + 1};
  EXPECT_FALSE(is_recorded_process(reused));
  EXPECT_FALSE(is_recorded_process(pid_record{getpid(), 0}));
}

}  // namespace
}  // namespace sluice::stack
