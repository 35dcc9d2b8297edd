import ArgumentParser
import CheckpointConversion
import CheckpointCore
import CheckpointKit
import CheckpointQuantization
import CheckpointStorage
import Foundation

extension Ckpt {
  /// `ckpt convert`: rewrite a checkpoint in another format, losslessly.
  struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Convert a checkpoint to another format.",
      discussion: """
        The output format comes from OUTPUT's extension (.safetensors, .npz, .npy, .pt, .h5, .weights.h5, and .index.json for sharded safetensors) or from --format. Tensor bytes are copied unchanged.

        The output is written to a temporary file in the same folder, synced and renamed into place: a failure leaves no partial file and never touches the input.
        """
    )

    @Argument(help: "The checkpoint to read.")
    var input: String

    @Argument(help: "The file to write.")
    var output: String

    @Option(help: "The output format (default: from OUTPUT's extension).")
    var format: String?

    @Option(help: "Read INPUT as this format instead of detecting it.")
    var inputFormat: String?

    @Option(help: "Read only this top-level entry of a nested INPUT (e.g. model).")
    var key: String?

    @Option(
      help: ArgumentHelp(
        "Split safetensors output into shards of at most this size (e.g. 5GB, 500MiB); OUTPUT names the index (model.safetensors.index.json).",
        valueName: "size"))
    var shardSize: String?

    @Option(
      help: ArgumentHelp(
        "Compression for formats that support it: none, zlib or zlib:1..9.", valueName: "codec"))
    var compress: String?

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
      if let shardSize, parseByteSize(shardSize) == nil {
        throw ValidationError("--shard-size '\(shardSize)' is not a size (try 5GB or 500MiB)")
      }
    }

    func run() throws {
      try reportingErrors(json: outputOptions.json) {
        let started = Date()
        try Convert.refuseSameFile(input: input, output: output)
        var checkpoint = try FormatRegistry.read(path: input, format: inputFormat, key: key)
        if checkpoint.format == CKZFormat.identifier {
          // Provenance read from a .ckz file is not user metadata: do not carry it on.
          checkpoint.metadata = CKZFormat.userMetadata(checkpoint.metadata)
        }
        if let target = try format.map(FormatRegistry.format(named:))
          ?? FormatRegistry.format(forExtensionOf: output),
          !target.supportsBlockQuantization
        {
          // Formats without ggml blocks get Q8_0/Q4_0 tensors dequantized to F32.
          let (dequantized, names) = try Dequantizer.dequantizingBlocks(checkpoint)
          checkpoint = dequantized
          if !names.isEmpty, !outputOptions.quiet {
            warn(
              "\(target.identifier) files cannot store Q8_0/Q4_0 blocks; dequantized \(names.count) tensors to F32: \(names.joined(separator: ", "))"
            )
          }
        }
        let progress = outputOptions.progressBar()
        let options = WriteOptions(
          shardSize: shardSize.flatMap(parseByteSize),
          compression: try compress.map(CompressionSetting.init(parsing:)),
          progress: progress,
          provenance: Provenance(
            sourcePath: input, sourceFormat: checkpoint.format,
            sourceLayout: LayoutDetector.detect(names: checkpoint.tensors.map(\.name)).layout.rawValue,
            tool: "ckpt \(Ckpt.version)"))
        defer { progress?.end() }
        if !checkpoint.metadata.isEmpty, !outputOptions.quiet,
          let target = try format.map(FormatRegistry.format(named:))
            ?? FormatRegistry.format(forExtensionOf: output),
          !target.supportsMetadata
        {
          let keys = checkpoint.metadata.keys.sorted().joined(separator: ", ")
          warn("\(target.identifier) files cannot store metadata; dropped: \(keys)")
        }
        try FormatRegistry.write(checkpoint, to: output, format: format, options: options)
        progress?.end()
        let seconds = Date().timeIntervalSince(started)
        if outputOptions.json {
          emit(
            JSONValue.object([
              ("input", .string(input)),
              ("output", .string(output)),
              ("input_format", .string(checkpoint.format)),
              ("format", .string(try format ?? FormatRegistry.outputFormat(for: output))),
              ("tensors", .integer(Int64(checkpoint.tensors.count))),
              ("bytes", .integer(Int64(checkpoint.byteCount))),
              ("seconds", .double(seconds)),
            ]).prettyText)
        } else if !outputOptions.quiet {
          emit(
            "wrote \(output): \(checkpoint.tensors.count) tensors, \(formatBytes(checkpoint.byteCount)) in \(String(format: "%.2f", seconds)) s"
          )
        }
      }
    }

    /// Refuses to write over the input: the conversion must never touch it.
    static func refuseSameFile(input: String, output: String) throws {
      let a = URL(fileURLWithPath: input).resolvingSymlinksInPath().standardizedFileURL.path
      let b = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
      if a == b {
        throw CheckpointError(.invalidArgument, "output is the input file; choose another name", file: output)
      }
    }
  }
}
