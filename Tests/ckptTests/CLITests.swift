import CheckpointTestSupport
import XCTest

final class CLITests: XCTestCase {
  /// Shell completions list the values of --arch, --layout and --format.
  func testCompletionsListTheValues() throws {
    for shell in ["bash", "zsh", "fish"] {
      let result = try TestFixtures.runCkpt(["--generate-completion-script", shell])
      XCTAssertEqual(result.status, 0, result.stderr)
      for value in [
        "seq2seq-lstm", "transformer-encoder", "hf-bert", "keras3", "keras-archive", "safetensors-sharded",
      ] {
        XCTAssertTrue(result.stdout.contains(value), "\(shell): \(value)")
      }
    }
  }

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

  func testFormatsOtherThanHDF5NeedNeitherLibhdf5NorBLAS() throws {
    // Both are loaded on first use: with neither loadable, everything else still works.
    let missing = ["CKPT_LIBHDF5": "/nonexistent/libhdf5.so", "CKPT_LIBBLAS": "/nonexistent/libblas.so"]
    try TestFixtures.withTemporaryFolder { folder in
      let source = TestFixtures.path("safetensors/dtypes.safetensors")
      for (arguments, label) in [
        (["convert", source, folder + "/a.ckz", "--quiet"], "convert to .ckz"),
        (["convert", folder + "/a.ckz", folder + "/b.npz", "--quiet"], "convert to .npz"),
        (["inspect", "--json", folder + "/b.npz"], "inspect"),
        (["check", folder + "/a.ckz"], "check"),
        (["diff", source, folder + "/b.npz"], "diff"),
      ] {
        let result = try TestFixtures.runCkpt(arguments, environment: missing)
        XCTAssertEqual(result.status, 0, "\(label): \(result.stderr)")
      }
    }
  }
}
