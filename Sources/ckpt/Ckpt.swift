import ArgumentParser

/// The `ckpt` command: inspect, convert and check neural-network checkpoints.
@main
struct Ckpt: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "ckpt",
    abstract: "Inspect, convert and verify neural-network checkpoints.",
    discussion: """
      Formats: safetensors (single and sharded), NumPy .npy/.npz, and more as they land.
      Every command accepts --json for scripts; errors exit non-zero and name the file,
      the tensor and the byte offset.
      """,
    version: version,
    subcommands: [Inspect.self, Convert.self, Check.self]
  )
}
