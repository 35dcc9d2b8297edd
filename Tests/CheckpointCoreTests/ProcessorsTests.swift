import CheckpointCore
import XCTest

final class ProcessorsTests: XCTestCase {
  func testCPUMaxQuotaIsRoundedUp() {
    XCTAssertNil(Processors.quota(cpuMax: "max 100000\n"))
    XCTAssertEqual(Processors.quota(cpuMax: "200000 100000\n"), 2)
    XCTAssertEqual(Processors.quota(cpuMax: "150000 100000"), 2)
    XCTAssertEqual(Processors.quota(cpuMax: "50000 100000\n"), 1)
    XCTAssertEqual(Processors.quota(cpuMax: "1 100000\n"), 1)
    XCTAssertEqual(Processors.quota(cpuMax: "400000 100000\n"), 4)
    for bad in ["", "max", "100000", "-1 100000", "100000 0", "a b", "1 2 3"] {
      XCTAssertNil(Processors.quota(cpuMax: bad), bad)
    }
  }

  func testCgroupPathIsTheV2Line() {
    let hybrid = "12:cpu,cpuacct:/user.slice\n0::/user.slice/user-1000.slice/session-2.scope\n"
    XCTAssertEqual(
      Processors.cgroupPath(procSelfCgroup: hybrid), "/user.slice/user-1000.slice/session-2.scope")
    XCTAssertEqual(Processors.cgroupPath(procSelfCgroup: "0::/\n"), "/")
    XCTAssertNil(Processors.cgroupPath(procSelfCgroup: "4:memory:/docker/abc\n1:cpu:/\n"))
  }

  func testThreadVariablesWinInOrder() {
    XCTAssertEqual(Processors.threads(environment: [:], available: 6), 6)
    XCTAssertEqual(Processors.threads(environment: ["OMP_NUM_THREADS": "3"], available: 6), 3)
    XCTAssertEqual(
      Processors.threads(environment: ["OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "3"], available: 6), 2)
    // Not a positive integer: the next variable, else the processors available.
    XCTAssertEqual(
      Processors.threads(environment: ["OPENBLAS_NUM_THREADS": "0", "OMP_NUM_THREADS": "5"], available: 6), 5)
    XCTAssertEqual(Processors.threads(environment: ["OPENBLAS_NUM_THREADS": "many"], available: 6), 6)
    XCTAssertEqual(Processors.threads(environment: [:], available: 0), 1)
  }

  func testAvailableIsWithinTheOnlineProcessors() {
    XCTAssertGreaterThanOrEqual(Processors.available, 1)
    XCTAssertLessThanOrEqual(Processors.available, ProcessInfo.processInfo.processorCount)
    XCTAssertGreaterThanOrEqual(Processors.threads, 1)
  }
}
