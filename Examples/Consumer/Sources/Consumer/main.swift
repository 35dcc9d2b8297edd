// Converts a Keras 2 seq2seq LSTM checkpoint to PyTorch's layout in a safetensors file, then
// verifies, module by module, that the two files compute the same function.
//
//   swift run Consumer SOURCE.h5 OUTPUT.safetensors
import CheckpointKit
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
  print("usage: Consumer SOURCE OUTPUT")
  exit(64)
}
do {
  let source = try FormatRegistry.read(path: arguments[1])
  let converted = try LayoutConverter.convert(source, from: nil, to: .pytorch)
  try FormatRegistry.write(converted, to: arguments[2])
  let written = try FormatRegistry.read(path: arguments[2])
  let report = try ParityVerifier.verify(source, written)
  let error = report.whole.statistics?.maxAbsError ?? .nan
  print("\(report.architecture): \(report.modules.count) modules checked, max abs error \(error)")
  print(report.passed ? "PASS" : "FAIL at \(report.firstFailure ?? "the whole model")")
  exit(report.passed ? 0 : 1)
} catch {
  print("error: \(error)")
  exit(1)
}
