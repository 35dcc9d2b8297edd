import CheckpointTestSupport
import XCTest

final class CLITests: XCTestCase {
  func testVersionAndHelp() throws {
    let version = try TestFixtures.runCkpt(["--version"])
    XCTAssertEqual(version.status, 0)
    XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    let help = try TestFixtures.runCkpt(["--help"])
    XCTAssertTrue(help.stdout.contains("inspect"), help.stdout)
    XCTAssertTrue(help.stdout.contains("convert"), help.stdout)
  }

  func testMissingFileIsAClearError() throws {
    let result = try TestFixtures.runCkpt(["inspect", "/nonexistent/model.safetensors"])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(result.stderr.contains("/nonexistent/model.safetensors"), result.stderr)
    XCTAssertTrue(result.stderr.contains("No such file"), result.stderr)
  }
}
