import XCTest

@testable import CheckpointQuantization

final class ErrorStatisticsTests: XCTestCase {
  /// The vectorised sums equal a plain Double computation (lengths off the 16-lane grid,
  /// several 1024-value slices, non-finite originals skipped).
  func testMatchesPlainComputation() {
    var generator = SystemRandomNumberGenerator()
    let n = 3 * 1024 + 37
    var x = (0..<n).map { _ in Float.random(in: -3...3, using: &generator) }
    x[5] = .nan
    x[2000] = .infinity
    let y = x.map { $0 + Float.random(in: -0.01...0.01, using: &generator) }
    var statistics = QuantizationLoss()
    statistics.add(original: x, restored: y, count: n)
    var signal = 0.0
    var error = 0.0
    var worst = 0.0
    var count = 0
    for (a, b) in zip(x, y) where a.isFinite {
      signal += Double(a) * Double(a)
      error += Double(a - b) * Double(a - b)
      worst = max(worst, Double((a - b).magnitude))
      count += 1
    }
    XCTAssertEqual(statistics.count, count)
    XCTAssertEqual(statistics.maxAbsError, worst)
    XCTAssertEqual(statistics.signalEnergy, signal, accuracy: signal * 1e-5)
    XCTAssertEqual(statistics.errorEnergy, error, accuracy: error * 1e-4)
    XCTAssertEqual(statistics.rmse, (error / Double(count)).squareRoot(), accuracy: 1e-6)
  }
}
