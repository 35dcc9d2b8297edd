import Foundation
import XCTest

/// The corruption suite's memory bound is real: under ``MemoryCeiling`` an
/// allocation beyond the headroom fails instead of succeeding lazily.
final class MemoryCeilingTests: XCTestCase {
  func testAllocationsBeyondTheHeadroomFail() throws {
    #if os(Linux)
      MemoryCeiling.run {
        let small = malloc(1 << 20)
        XCTAssertNotNil(small)
        free(small)
        let huge = malloc(MemoryCeiling.headroom * 2)
        XCTAssertNil(huge, "an allocation of twice the headroom succeeded under the ceiling")
        free(huge)
      }
      let after = malloc(MemoryCeiling.headroom * 2)
      XCTAssertNotNil(after, "the limit was not restored")
      free(after)
    #else
      throw XCTSkip("RLIMIT_DATA is enforced on Linux only")
    #endif
  }
}
