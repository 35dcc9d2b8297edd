internal import CHDF5
import CheckpointCore

/// An open libhdf5 identifier (file, group, dataset, attribute, datatype,
/// dataspace or property list), closed exactly once when the last reference
/// goes away, under the library lock.
final class HDF5Object: @unchecked Sendable {
  /// What kind of identifier this is, which decides the close function.
  enum Kind {
    case file, group, dataset, attribute, datatype, dataspace, propertyList
  }

  /// The raw identifier.
  let id: hid_t
  let kind: Kind

  /// Takes ownership of `id`.
  init(_ id: hid_t, _ kind: Kind) {
    self.id = id
    self.kind = kind
  }

  /// Opens or creates an object with `body` and takes ownership of the result.
  static func make(
    _ function: String, _ kind: Kind, failure: CheckpointError.Kind = .corrupt, _ body: () -> hid_t
  ) throws -> HDF5Object {
    HDF5Object(try HDF5Library.call(function, kind: failure, body), kind)
  }

  deinit {
    HDF5Library.locked {
      switch kind {
      case .file: _ = H5Fclose(id)
      case .group: _ = H5Gclose(id)
      case .dataset: _ = H5Dclose(id)
      case .attribute: _ = H5Aclose(id)
      case .datatype: _ = H5Tclose(id)
      case .dataspace: _ = H5Sclose(id)
      case .propertyList: _ = H5Pclose(id)
      }
    }
  }
}
