import CheckpointCore
import XCTest

@testable import CheckpointHDF5

/// Name rules of the Keras layouts and the order of children.
final class HDF5LayoutTests: XCTestCase {
  func testKeras2WeightNames() {
    XCTAssertTrue(Keras2Layout.isWeightName("lstm/lstm/lstm_cell/kernel:0"))
    XCTAssertTrue(Keras2Layout.isWeightName("dense/bias:12"))
    XCTAssertFalse(Keras2Layout.isWeightName("kernel:0"))
    XCTAssertFalse(Keras2Layout.isWeightName("dense/bias"))
    XCTAssertFalse(Keras2Layout.isWeightName("dense//bias:0"))
    XCTAssertFalse(Keras2Layout.isWeightName("encoder.layer.0.weight"))
  }

  func testKeras3VariablePaths() {
    XCTAssertTrue(Keras3Layout.isVariablePath("layers/lstm/cell/vars/2"))
    XCTAssertTrue(Keras3Layout.isVariablePath("vars/0"))
    XCTAssertTrue(Keras3Layout.isVariablePath("layers/encoder/_self_attention_layer/key_dense/vars/10"))
    XCTAssertFalse(Keras3Layout.isVariablePath("layers/dense/vars/x"))
    XCTAssertFalse(Keras3Layout.isVariablePath("weights/dense/vars/0"))
    XCTAssertFalse(Keras3Layout.isVariablePath("dense/kernel:0"))
  }

  func testNumericNamesSortNumerically() {
    func node(_ name: String) -> HDF5Node {
      HDF5Node(name: name, path: name, kind: .dataset, attributes: [], children: [], dataset: nil)
    }
    let sorted = HDF5File.naturalOrder(["0", "1", "10", "11", "2"].map(node))
    XCTAssertEqual(sorted.map(\.name), ["0", "1", "2", "10", "11"])
    let mixed = HDF5File.naturalOrder(["b", "10", "2"].map(node))
    XCTAssertEqual(mixed.map(\.name), ["b", "10", "2"], "name order unless all names are numbers")
  }

  func testLayerNamesSplitLikeTfKeras() {
    let short = HDF5CheckpointWriter.splitList(["a", "b"], name: "layer_names")
    XCTAssertEqual(short.map(\.0), ["layer_names"])
    let long = (0..<70).map { String(repeating: "x", count: 1000) + "\($0)" }
    let parts = HDF5CheckpointWriter.splitList(long, name: "layer_names")
    XCTAssertEqual(parts.map(\.0), ["layer_names0", "layer_names1"])
    XCTAssertEqual(parts.map(\.1.count), [35, 35])
    XCTAssertEqual(parts.flatMap(\.1), long)
  }
}
