import CheckpointCore
import CheckpointModels

/// A user rule from `--map rules.json`: a regex rename with an optional transform, for names
/// the built-in rules do not know. See Docs/layouts.md for the schema.
///
/// ```json
/// {"rules": [
///   {"match": "rnn\\.W_x(\\d)", "rename": "rnn.weight_ih_l$1", "transform": ["transpose"]},
///   {"match": "pooler\\..*", "drop": true},
///   {"stage": "target", "match": "layers/dense/(.*)", "rename": "layers/dense_1/$1"}
/// ]}
/// ```
public struct UserRule: Sendable {
  /// When a rule applies.
  public enum Stage: String, Sendable {
    /// To the input's names, before module recognition (make custom names recognisable).
    case source
    /// To the converted names, after the built-in rules.
    case target
  }

  /// One transform step of a user rule.
  public enum Step: Sendable, Equatable {
    /// Swap the two axes of a matrix.
    case transpose
    /// Reorder gate blocks along an axis.
    case gates([Int], axis: Int)
    /// Same elements, another shape.
    case reshape([Int])
  }

  /// The stage.
  public var stage: Stage
  /// The pattern the whole tensor name must match.
  public var match: String
  /// The new name (`$1`…`$9` are the pattern's groups); `nil` keeps the name.
  public var rename: String?
  /// Steps applied to the tensor's values.
  public var steps: [Step]
  /// Drops matching tensors.
  public var drop: Bool

  /// Creates a rule.
  public init(
    stage: Stage = .source, match: String, rename: String? = nil, steps: [Step] = [], drop: Bool = false
  ) {
    self.stage = stage
    self.match = match
    self.rename = rename
    self.steps = steps
    self.drop = drop
  }

  /// Parses a rules file: `{"rules": [{"match", "rename"?, "transform"?, "drop"?, "stage"?}]}`.
  ///
  /// - Throws: `CheckpointError` `.invalidArgument` naming the rule and member at fault.
  public static func parse(_ bytes: [UInt8], file: String? = nil) throws -> [UserRule] {
    let json = try JSONValue.parse(bytes)
    guard let list = json["rules"]?.arrayValue else {
      throw CheckpointError(.invalidArgument, "a rules file is {\"rules\": [...]}", file: file)
    }
    return try list.enumerated().map { index, item in
      func fail(_ message: String) -> CheckpointError {
        CheckpointError(.invalidArgument, "rule \(index): \(message)", file: file)
      }
      guard let members = item.objectValue else { throw fail("expected an object") }
      let known: Set<String> = ["match", "rename", "transform", "drop", "stage"]
      if let unknown = members.first(where: { !known.contains($0.0) }) {
        throw fail("unknown member '\(unknown.0)' (known: match, rename, transform, drop, stage)")
      }
      guard let match = item["match"]?.stringValue else { throw fail("'match' (a regex) is required") }
      guard (try? Regex(match)) != nil else { throw fail("'match' is not a valid regex: \(match)") }
      var stage = Stage.source
      if let value = item["stage"] {
        guard let text = value.stringValue, let parsed = Stage(rawValue: text) else {
          throw fail("'stage' is \"source\" or \"target\"")
        }
        stage = parsed
      }
      var drop = false
      if let value = item["drop"] {
        guard case .bool(let flag) = value else { throw fail("'drop' is true or false") }
        drop = flag
      }
      var rename: String?
      if let value = item["rename"] {
        guard let text = value.stringValue else { throw fail("'rename' is a string") }
        rename = text
      }
      var steps: [Step] = []
      for step in item["transform"]?.arrayValue ?? [] {
        if step.stringValue == "transpose" {
          steps.append(.transpose)
        } else if let order = step["gates"]?.arrayValue?.compactMap(\.intValue) {
          steps.append(.gates(order, axis: step["axis"]?.intValue ?? 0))
        } else if let shape = step["reshape"]?.arrayValue?.compactMap(\.intValue) {
          steps.append(.reshape(shape))
        } else {
          throw fail(
            "a transform step is \"transpose\", {\"gates\": [..], \"axis\": n} or {\"reshape\": [..]}")
        }
      }
      return UserRule(stage: stage, match: match, rename: rename, steps: steps, drop: drop)
    }
  }

  /// Applies the rules of `stage` to `tensors`: the first rule whose pattern matches a name wins.
  static func apply(_ rules: [UserRule], stage: Stage, to tensors: [Tensor]) throws -> [Tensor] {
    let active = rules.filter { $0.stage == stage }
    if active.isEmpty { return tensors }
    let compiled = try active.map { ($0, try Regex($0.match)) }
    var result: [Tensor] = []
    for tensor in tensors {
      guard let (rule, regex) = compiled.first(where: { (try? $0.1.wholeMatch(in: tensor.name)) != nil }),
        let match = try regex.wholeMatch(in: tensor.name)
      else {
        result.append(tensor)
        continue
      }
      if rule.drop { continue }
      var name = tensor.name
      if let template = rule.rename {
        name = template
        for group in stride(from: min(match.output.count - 1, 9), through: 1, by: -1) {
          name = name.replacingOccurrences(
            of: "$\(group)", with: match.output[group].substring.map(String.init) ?? "")
        }
      }
      result.append(try rule.transform(tensor, name: name))
    }
    return result
  }

  private func transform(_ tensor: Tensor, name: String) throws -> Tensor {
    if steps.isEmpty { return tensor.renamed(name) }
    let steps = self.steps
    @Sendable func run(_ start: ArrayBlock) throws -> ArrayBlock {
      var block = start
      for step in steps {
        switch step {
        case .transpose:
          block = try ParameterRule.apply(.transpose, block, context: TransformContext(), tensor: name)
        case .gates(let order, let axis):
          block = try ParameterRule.apply(
            .gates(order, axis: axis), block, context: TransformContext(), tensor: name)
        case .reshape(let shape):
          guard (try? Shape.elementCount(shape)) == block.shape.reduce(1, *) else {
            throw CheckpointError(
              .invalidShape, "cannot reshape \(Shape.describe(block.shape)) to \(Shape.describe(shape))",
              tensor: name)
          }
          block = block.reshaped(shape)
        }
      }
      return block
    }
    let shape = try run(.symbolic(tensor))
    let info = TensorInfo(name: name, dtype: tensor.dtype, shape: shape.shape)
    return Tensor(info: info, byteCount: try info.byteCount()) {
      TensorBytes(try run(try ArrayBlock.load(tensor)).bytes)
    }
  }
}
