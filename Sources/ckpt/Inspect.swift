import ArgumentParser
import CheckpointConversion
import CheckpointCore
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import Foundation

extension Ckpt {
  /// `ckpt inspect`: what is in a checkpoint, from its headers only.
  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "inspect",
      abstract: "List a checkpoint's tensors, dtypes, shapes, sizes and metadata.",
      discussion: """
        Reads headers only; no tensor data is read. JSON output:
        {"format", "layout", "parameters", "metadata", "tensors": [{"name", "dtype", "shape", "bytes"}]}
        Compressed formats (.ckz) add "stored_bytes" per tensor, and `stored`/`ratio` columns.
        When the checkpoint is a model the engine recognises, its model graph is listed: every node with
        its inputs, outputs and settings, and where each setting came from ("graph": {"architecture",
        "naming", "inputs", "outputs", "nodes": [{"name", "operation", "inputs", "outputs", "parameters",
        "settings": [{"name", "value", "source"}]}]}, or null).
        """
    )

    @Argument(help: "The checkpoint file (or a sharded index .json).")
    var path: String

    @Option(help: "Read as this format instead of detecting it.")
    var format: FormatArgument?

    @Flag(help: "Also show the tree: HDF5 groups and datasets, Keras layers and their weights.")
    var tree = false

    @Option(help: "Read only this top-level entry of a nested checkpoint (e.g. model).")
    var key: String?

    @OptionGroup var output: OutputOptions

    func run() throws {
      try reportingErrors(json: output.json) {
        let checkpoint = try FormatRegistry.read(path: path, format: format?.name, key: key)
        let detection = LayoutConverter.detect(checkpoint)
        let graph = ModelGraph.recognise(checkpoint)
        if output.json {
          emit(Inspect.json(checkpoint, path: path, detection: detection, graph: graph).prettyText)
        } else if !output.quiet {
          emit(Inspect.text(checkpoint, path: path, detection: detection, graph: graph))
          if tree { emit("\n" + (try Inspect.treeText(checkpoint, path: path))) }
        }
      }
    }

    static func json(_ checkpoint: Checkpoint, path: String, detection: LayoutDetection, graph: ModelGraph?)
      -> JSONValue
    {
      let tensors = checkpoint.tensors.map { tensor -> JSONValue in
        var members: [(String, JSONValue)] = [
          ("name", .string(tensor.name)),
          ("dtype", .string(tensor.dtype.name)),
          ("shape", .array(tensor.shape.map { .integer(Int64($0)) })),
          ("bytes", .integer(Int64(tensor.byteCount))),
          ("role", .string(TensorRole.of(tensor.info).rawValue)),
        ]
        if let stored = tensor.storedByteCount { members.append(("stored_bytes", .integer(Int64(stored)))) }
        return .object(members)
      }
      let metadata = checkpoint.metadata.sorted { $0.key < $1.key }.map {
        ($0.key, JSONValue.string($0.value))
      }
      return .object([
        ("file", .string(path)),
        ("format", .string(checkpoint.format)),
        ("layout", .string(detection.layout.rawValue)),
        ("layout_evidence", .array(detection.evidence.map { .string($0) })),
        ("parameters", .integer(Int64(checkpoint.parameterCount))),
        ("buffers", .integer(Int64(checkpoint.elementCount(.buffer)))),
        ("training_state", .integer(Int64(checkpoint.elementCount(.trainingState)))),
        ("bytes", .integer(Int64(checkpoint.byteCount))),
        ("metadata", .object(metadata)),
        ("tensors", .array(tensors)),
        ("graph", graph?.jsonValue ?? .null),
        (
          "modules",
          .array(
            ModuleRecognition(checkpoint).runnable.map {
              .object([
                ("prefix", .string($0.prefix)), ("kind", .string($0.kind)),
                ("layers", .integer(Int64($0.layers))),
                ("naming", .string($0.naming.rawValue)),
              ])
            })
        ),
      ])
    }

    static func text(_ checkpoint: Checkpoint, path: String, detection: LayoutDetection, graph: ModelGraph?)
      -> String
    {
      var lines: [String] = []
      lines.append("file:       \(path)")
      lines.append("format:     \(checkpoint.format)")
      var layout = "layout:     \(detection.layout.rawValue)"
      if let first = detection.evidence.first { layout += "  (from \(first))" }
      lines.append(layout)
      var counts = "tensors:    \(checkpoint.tensors.count), \(checkpoint.parameterCount) parameters"
      for (role, label) in [(TensorRole.buffer, "buffer"), (.trainingState, "training-state")] {
        let elements = checkpoint.elementCount(role)
        if elements > 0 || checkpoint.tensors.contains(where: { TensorRole.of($0.info) == role }) {
          counts += " + \(elements) \(label) elements"
        }
      }
      lines.append(counts + ", \(formatBytes(checkpoint.byteCount))")
      if !checkpoint.metadata.isEmpty {
        lines.append("metadata:")
        for (key, value) in checkpoint.metadata.sorted(by: { $0.key < $1.key }) {
          let oneLine = value.replacingOccurrences(of: "\n", with: "\\n")
          let shown = oneLine.count > 100 ? String(oneLine.prefix(97)) + "..." : oneLine
          lines.append("  \(key): \(shown)")
        }
      }
      let showsStored = checkpoint.tensors.contains { $0.storedByteCount != nil }
      if showsStored {
        let stored = checkpoint.tensors.reduce(0) { $0 &+ ($1.storedByteCount ?? $1.byteCount) }
        lines.append("stored:     \(formatBytes(stored)), ratio \(ratio(stored, checkpoint.byteCount))")
      }
      // Parameters first, then buffers, then training state, each under its own heading.
      let ordered = TensorRole.allCases.flatMap { role in
        checkpoint.tensors.filter { TensorRole.of($0.info) == role }
      }
      let rows = ordered.map { t -> [String] in
        var row = [t.name, t.dtype.name, Shape.describe(t.shape), formatBytes(t.byteCount)]
        if showsStored {
          let stored = t.storedByteCount ?? t.byteCount
          row += [formatBytes(stored), ratio(stored, t.byteCount)]
        }
        return row
      }
      let header = ["name", "dtype", "shape", "size"] + (showsStored ? ["stored", "ratio"] : [])
      var widths = header.map(\.count)
      for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
      }
      func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
          i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
      }
      lines.append("")
      lines.append(line(header))
      var role = TensorRole.parameter
      for (tensor, row) in zip(ordered, rows) {
        let own = TensorRole.of(tensor.info)
        if own != role {
          role = own
          lines.append(role == .buffer ? "buffers:" : "training state (not the model's weights):")
        }
        lines.append(line(row))
      }
      let runnable = ModuleRecognition(checkpoint).runnable
      if !runnable.isEmpty {
        lines.append("")
        lines.append("modules (ckpt run/verify --module PREFIX):")
        for module in runnable {
          lines.append(
            "  \(module.prefix)  \(module.kind), \(module.layers) layer(s), \(module.naming.rawValue) naming")
        }
      }
      if let graph {
        lines.append("")
        lines.append("model graph: \(graph.architecture.rawValue) (\(graph.naming.rawValue) naming)")
        lines.append(
          "  inputs: "
            + graph.inputs.map { $0.required ? $0.name : "\($0.name) (optional)" }.joined(separator: ", "))
        for node in graph.lines { lines.append("  " + node) }
        lines.append("  outputs: " + graph.outputs.map { "\($0.name) = \($0.value)" }.joined(separator: ", "))
      }
      return lines.joined(separator: "\n")
    }

    /// Stored size over data size, `0.84`; `-` for empty data.
    static func ratio(_ stored: Int, _ bytes: Int) -> String {
      bytes == 0 ? "-" : String(format: "%.3f", Double(stored) / Double(bytes))
    }
  }
}
