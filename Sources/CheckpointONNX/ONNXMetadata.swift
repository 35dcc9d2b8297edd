import CheckpointCore
import CheckpointONNXSchema
import SwiftProtobuf

extension ONNXFormat {
  /// The checkpoint metadata of a scanned model: `metadata_props`, then the `onnx.` keys (which
  /// win over a property of the same name).
  static func metadata(_ scan: ONNXModelScan) throws -> [String: String] {
    var options = BinaryDecodingOptions()
    options.messageDepthLimit = messageDepthLimit
    let model: Onnx_ModelProto
    let graph: Onnx_GraphProto
    do {
      model = try Onnx_ModelProto(serializedBytes: scan.modelFields, options: options)
    } catch {
      throw CheckpointError(.corrupt, "the ModelProto's fields do not decode: \(error)")
    }
    do {
      graph = try Onnx_GraphProto(serializedBytes: scan.graphFields, options: options)
    } catch {
      throw CheckpointError(.corrupt, "the GraphProto's nodes, inputs or outputs do not decode: \(error)")
    }
    var metadata: [String: String] = [:]
    for property in model.metadataProps { metadata[property.key] = property.value }
    let p = metadataPrefix
    if model.hasIrVersion { metadata[p + "ir_version"] = String(model.irVersion) }
    if model.hasModelVersion { metadata[p + "model_version"] = String(model.modelVersion) }
    for (key, value) in [
      ("producer_name", model.producerName), ("producer_version", model.producerVersion),
      ("domain", model.domain), ("doc_string", model.docString),
    ] where !value.isEmpty {
      metadata[p + key] = value
    }
    if !model.opsetImport.isEmpty {
      metadata[p + "opset_import"] =
        JSONValue.object(
          model.opsetImport.map { ($0.domain.isEmpty ? "ai.onnx" : $0.domain, .integer($0.version)) }
        ).compactText
    }
    metadata[p + "graph"] = summary(of: graph, initializers: scan.initializers.count).compactText
    return metadata
  }

  /// The graph as `onnx.graph` describes it: name, inputs, outputs, node and op counts.
  static func summary(of graph: Onnx_GraphProto, initializers: Int) -> JSONValue {
    var ops: [(String, Int)] = []
    for node in graph.node {
      let op = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : node.domain + "." + node.opType
      if let index = ops.firstIndex(where: { $0.0 == op }) {
        ops[index].1 += 1
      } else {
        ops.append((op, 1))
      }
    }
    return .object([
      ("name", .string(graph.name)),
      ("inputs", .array(graph.input.map(value))),
      ("outputs", .array(graph.output.map(value))),
      ("nodes", .integer(Int64(graph.node.count))),
      ("ops", .object(ops.map { ($0.0, .integer(Int64($0.1))) })),
      ("initializers", .integer(Int64(initializers))),
    ])
  }

  /// A graph input or output: its name, and for a tensor its element type and shape (a dimension
  /// is its size, its symbolic name, or null).
  private static func value(_ info: Onnx_ValueInfoProto) -> JSONValue {
    var members: [(String, JSONValue)] = [("name", .string(info.name))]
    if case .tensorType(let tensor)? = info.type.value {
      let code = Int(tensor.elemType)
      members.append(("type", .string(ONNXTensorType.names[code] ?? String(code))))
      if tensor.hasShape {
        members.append(
          (
            "shape",
            .array(
              tensor.shape.dim.map { dim in
                switch dim.value {
                case .dimValue(let size)?: return .integer(size)
                case .dimParam(let name)?: return .string(name)
                case nil: return .null
                }
              })
          ))
      }
    }
    return .object(members)
  }
}
