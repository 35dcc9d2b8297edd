import CheckpointCore
import CheckpointModels

/// Loads LSTM and GRU weights for modules found by `RecurrentRecognizer`.
extension RecurrentModule {
  private var weightLayout: DenseWeight.Layout { layout == .pytorch ? .outIn : .inOut }

  /// Loads the module as an LSTM.
  func lstm(_ parameters: ParameterSet) throws -> LSTM {
    guard kind == .lstm else {
      throw ModelError.missingModule("'\(name)' is a \(kind.title), not an LSTM")
    }
    try checkDirections()
    let (hidden, output) = try hiddenSize(parameters, gates: 4)
    let inputs = try inputSize(parameters)
    let nd = cells[0].count
    var layers: [[LSTM.Cell]] = []
    for (l, layer) in cells.enumerated() {
      var row: [LSTM.Cell] = []
      for (d, names) in layer.enumerated() {
        let module = describe(l, d)
        let expectedIn = l == 0 ? inputs : nd * output
        let input = try parameters.dense(
          names.input, layout: weightLayout, inFeatures: expectedIn, outFeatures: 4 * hidden, module: module)
        // Stored [in, out]: the per-step products run on small-matrix kernels (see DenseWeight).
        let recurrent = try parameters.dense(
          names.recurrent, layout: weightLayout, inFeatures: output, outFeatures: 4 * hidden, module: module
        ).inOutLayout()
        var bias = [Float](repeating: 0, count: 4 * hidden)
        for name in [names.inputBias, names.recurrentBias].compactMap({ $0 }) where parameters.contains(name)
        {
          let values = try parameters.vector(name, count: 4 * hidden, module: module)
          for index in bias.indices { bias[index] += values[index] }
        }
        var projection: DenseWeight?
        if output != hidden {
          guard let name = names.projection else {
            throw ModelError.missingModule("\(module): missing projection weight_hr")
          }
          projection = try parameters.dense(
            name, layout: .outIn, inFeatures: hidden, outFeatures: output, module: module)
        }
        row.append(LSTM.Cell(input: input, recurrent: recurrent, bias: bias, projection: projection))
      }
      layers.append(row)
    }
    return LSTM(layers: layers, inputSize: inputs, hiddenSize: hidden, outputSize: output)
  }

  /// Loads the module as a GRU.
  func gru(_ parameters: ParameterSet) throws -> GRU {
    guard kind == .gru else {
      throw ModelError.missingModule("'\(name)' is an \(kind.title), not a GRU")
    }
    try checkDirections()
    let (hidden, _) = try hiddenSize(parameters, gates: 3)
    let inputs = try inputSize(parameters)
    let nd = cells[0].count
    var resetAfter = true
    if layout != .pytorch, let bias = cells[0][0].inputBias, let shape = parameters.shape(bias) {
      resetAfter = shape.count == 2
    }
    var layers: [[GRU.Cell]] = []
    for (l, layer) in cells.enumerated() {
      var row: [GRU.Cell] = []
      for (d, names) in layer.enumerated() {
        let module = describe(l, d)
        let expectedIn = l == 0 ? inputs : nd * hidden
        let input = try parameters.dense(
          names.input, layout: weightLayout, inFeatures: expectedIn, outFeatures: 3 * hidden, module: module)
        let recurrent = try parameters.dense(
          names.recurrent, layout: weightLayout, inFeatures: hidden, outFeatures: 3 * hidden, module: module
        ).inOutLayout()
        var inputBias = [Float](repeating: 0, count: 3 * hidden)
        var recurrentBias = inputBias
        if layout == .pytorch {
          if let name = names.inputBias, parameters.contains(name) {
            inputBias = try parameters.vector(name, count: 3 * hidden, module: module)
          }
          if let name = names.recurrentBias, parameters.contains(name) {
            recurrentBias = try parameters.vector(name, count: 3 * hidden, module: module)
          }
        } else if let name = names.inputBias {
          let values = try parameters.vector(name, count: (resetAfter ? 6 : 3) * hidden, module: module)
          inputBias = Array(values[0..<(3 * hidden)])
          if resetAfter { recurrentBias = Array(values[(3 * hidden)...]) }
        }
        row.append(
          GRU.Cell(input: input, recurrent: recurrent, inputBias: inputBias, recurrentBias: recurrentBias))
      }
      layers.append(row)
    }
    return GRU(
      layers: layers, inputSize: inputs, hiddenSize: hidden, order: layout == .pytorch ? .pytorch : .keras,
      resetAfter: resetAfter)
  }
}
