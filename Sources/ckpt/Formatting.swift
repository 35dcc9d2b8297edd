import Foundation

/// Byte sizes for people: `1.5 MiB`.
func formatBytes(_ bytes: Int) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1024, unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Parses a size such as `5GB`, `500MiB`, `1048576` into bytes.
func parseByteSize(_ text: String) -> Int? {
  let trimmed = text.trimmingCharacters(in: .whitespaces)
  let digits = trimmed.prefix { $0.isNumber || $0 == "." }
  guard let number = Double(digits), number > 0 else { return nil }
  let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
  let multipliers: [String: Double] = [
    "": 1, "b": 1,
    "k": 1e3, "kb": 1e3, "kib": 1024,
    "m": 1e6, "mb": 1e6, "mib": 1_048_576,
    "g": 1e9, "gb": 1e9, "gib": 1_073_741_824,
    "t": 1e12, "tb": 1e12, "tib": 1_099_511_627_776,
  ]
  guard let multiplier = multipliers[unit] else { return nil }
  let bytes = number * multiplier
  guard bytes >= 1, bytes < 9e18 else { return nil }
  return Int(bytes)
}
