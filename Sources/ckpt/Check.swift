import ArgumentParser
import CheckpointCore
import CheckpointKit
import CheckpointStorage

extension Ckpt {
  /// `ckpt check`: verify a whole checkpoint.
  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Verify a checkpoint: every chunk CRC of a .ckz file, every tensor of other formats.",
      discussion: """
        For .ckz files, checks the header, footer and index CRCs, decodes every chunk of every
        tensor, compares both CRC32s of each chunk and checks the padding; every bad chunk is
        listed with its tensor and chunk number. Other formats have no checksums: every tensor
        is read in full, which validates the file's structure and sizes.
        Exits 1 when anything is wrong. JSON output:
        {"file", "format", "checked", "tensors", "chunks", "ok", "failures": [{"tensor", "chunk", "message"}]}
        """
    )

    @Argument(help: "The checkpoint file.")
    var path: String

    @Option(help: "Read as this format instead of detecting it.")
    var format: FormatArgument?

    @OptionGroup var output: OutputOptions

    struct Failure {
      var tensor: String
      var chunk: Int?
      var message: String
    }

    func run() throws {
      var failures: [Failure] = []
      var tensorCount = 0
      var chunkCount: Int?
      var checked = ""
      var formatName = ""
      try reportingErrors(json: output.json) {
        let handler =
          try format.map { try FormatRegistry.format(named: $0.name) } ?? FormatRegistry.detect(path: path)
        formatName = handler.identifier
        if handler.identifier == CKZFormat.identifier {
          let reader = try CKZReader(path: path)
          checked = "header, footer and index CRC32; both CRC32s of every chunk; zero padding"
          tensorCount = reader.entries.count
          chunkCount = reader.entries.reduce(0) { $0 + $1.chunks.count }
          for failure in reader.verifyAll() {
            failures.append(
              Failure(tensor: failure.tensor, chunk: failure.chunk, message: failure.error.description))
          }
        } else {
          let checkpoint = try FormatRegistry.read(path: path, format: handler.identifier)
          checked = "every tensor read in full (structure and sizes; the format has no checksums)"
          tensorCount = checkpoint.tensors.count
          for tensor in checkpoint.tensors {
            do {
              _ = try tensor.load()
            } catch {
              let message = (error as? CheckpointError)?.located(file: path).description ?? "\(error)"
              failures.append(Failure(tensor: tensor.name, chunk: nil, message: message))
            }
          }
        }
      }
      if output.json {
        var members: [(String, JSONValue)] = [
          ("file", .string(path)),
          ("format", .string(formatName)),
          ("checked", .string(checked)),
          ("tensors", .integer(Int64(tensorCount))),
        ]
        if let chunkCount { members.append(("chunks", .integer(Int64(chunkCount)))) }
        members.append(("ok", .bool(failures.isEmpty)))
        members.append(
          (
            "failures",
            .array(
              failures.map { failure in
                .object([
                  ("tensor", .string(failure.tensor)),
                  ("chunk", failure.chunk.map { .integer(Int64($0)) } ?? .null),
                  ("message", .string(failure.message)),
                ])
              })
          ))
        emit(JSONValue.object(members).prettyText)
      } else {
        for failure in failures {
          // The message names the file, the tensor, the byte offset and the chunk.
          FileHandleStandardError.write("error: \(failure.message)\n")
        }
        if !output.quiet {
          let chunks = chunkCount.map { ", \($0) chunks" } ?? ""
          let verdict = failures.isEmpty ? "OK" : "FAILED (\(failures.count) problems)"
          emit("\(path) (\(formatName)): \(tensorCount) tensors\(chunks): \(verdict)\nchecked: \(checked)")
        }
      }
      if !failures.isEmpty { throw ExitCode.failure }
    }
  }
}
