import CheckpointCore
import Foundation
import XCTest

final class SystemCallTests: XCTestCase {
  func testFailuresAreIOErrorsNamingTheCallAndTheFile() {
    let path = "/nonexistent/model.safetensors"
    XCTAssertThrowsError(try valueOrErrno("open", file: path) { open(path, O_RDONLY) }) { error in
      XCTAssertEqual(
        error as? CheckpointError, CheckpointError(.io, "open failed: No such file or directory", file: path))
    }
    XCTAssertThrowsError(
      try pointerOrErrno("opendir", file: path, failure: "cannot list the folder") { opendir(path) }
    ) { error in
      XCTAssertEqual(
        (error as? CheckpointError)?.description, "\(path): cannot list the folder: No such file or directory"
      )
    }
  }

  func testToleratedErrorsReturnTheResult() throws {
    let folder = NSTemporaryDirectory()
    XCTAssertEqual(try valueOrErrno("mkdir", file: folder, tolerating: [EEXIST]) { mkdir(folder, 0o755) }, -1)
    XCTAssertThrowsError(try valueOrErrno("mkdir", file: folder) { mkdir(folder, 0o755) })
  }

  func testInterruptedCallsAreRetried() throws {
    var calls = 0
    let result = try valueOrErrno("read") { () -> Int in
      calls += 1
      if calls < 3 {
        errno = EINTR
        return -1
      }
      return 7
    }
    XCTAssertEqual(result, 7)
    XCTAssertEqual(calls, 3)
  }
}
