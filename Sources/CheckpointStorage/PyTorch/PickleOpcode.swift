/// The pickle opcodes the ``PickleMachine`` understands: what `torch.save`
/// state dicts need with protocols 2–5, and nothing that calls arbitrary code.
///
/// Opcodes outside this set (`INST`, `OBJ`, `NEWOBJ`, `EXT*`, text-mode
/// opcodes, sets, out-of-band buffers, ...) are refused by name.
enum PickleOpcode: UInt8, CaseIterable {
  case proto = 0x80
  case frame = 0x95
  case stop = 0x2E  // .
  case mark = 0x28  // (
  case pop = 0x30  // 0
  case popMark = 0x31  // 1
  case dup = 0x32  // 2
  case none = 0x4E  // N
  case newTrue = 0x88
  case newFalse = 0x89
  case binInt = 0x4A  // J
  case binInt1 = 0x4B  // K
  case binInt2 = 0x4D  // M
  case long1 = 0x8A
  case long4 = 0x8B
  case binFloat = 0x47  // G
  case binUnicode = 0x58  // X
  case shortBinUnicode = 0x8C
  case binUnicode8 = 0x8D
  case binString = 0x54  // T
  case shortBinString = 0x55  // U
  case binBytes = 0x42  // B
  case shortBinBytes = 0x43  // C
  case binBytes8 = 0x8E
  case emptyTuple = 0x29  // )
  case tuple = 0x74  // t
  case tuple1 = 0x85
  case tuple2 = 0x86
  case tuple3 = 0x87
  case emptyList = 0x5D  // ]
  case list = 0x6C  // l
  case append = 0x61  // a
  case appends = 0x65  // e
  case emptyDict = 0x7D  // }
  case dict = 0x64  // d
  case setItem = 0x73  // s
  case setItems = 0x75  // u
  case global = 0x63  // c
  case stackGlobal = 0x93
  case reduce = 0x52  // R
  case build = 0x62  // b
  case binPersistentID = 0x51  // Q
  case binPut = 0x71  // q
  case longBinPut = 0x72  // r
  case memoize = 0x94
  case binGet = 0x68  // h
  case longBinGet = 0x6A  // j

  /// The name `pickletools` uses, for messages.
  var name: String {
    switch self {
    case .proto: return "PROTO"
    case .frame: return "FRAME"
    case .stop: return "STOP"
    case .mark: return "MARK"
    case .pop: return "POP"
    case .popMark: return "POP_MARK"
    case .dup: return "DUP"
    case .none: return "NONE"
    case .newTrue: return "NEWTRUE"
    case .newFalse: return "NEWFALSE"
    case .binInt: return "BININT"
    case .binInt1: return "BININT1"
    case .binInt2: return "BININT2"
    case .long1: return "LONG1"
    case .long4: return "LONG4"
    case .binFloat: return "BINFLOAT"
    case .binUnicode: return "BINUNICODE"
    case .shortBinUnicode: return "SHORT_BINUNICODE"
    case .binUnicode8: return "BINUNICODE8"
    case .binString: return "BINSTRING"
    case .shortBinString: return "SHORT_BINSTRING"
    case .binBytes: return "BINBYTES"
    case .shortBinBytes: return "SHORT_BINBYTES"
    case .binBytes8: return "BINBYTES8"
    case .emptyTuple: return "EMPTY_TUPLE"
    case .tuple: return "TUPLE"
    case .tuple1: return "TUPLE1"
    case .tuple2: return "TUPLE2"
    case .tuple3: return "TUPLE3"
    case .emptyList: return "EMPTY_LIST"
    case .list: return "LIST"
    case .append: return "APPEND"
    case .appends: return "APPENDS"
    case .emptyDict: return "EMPTY_DICT"
    case .dict: return "DICT"
    case .setItem: return "SETITEM"
    case .setItems: return "SETITEMS"
    case .global: return "GLOBAL"
    case .stackGlobal: return "STACK_GLOBAL"
    case .reduce: return "REDUCE"
    case .build: return "BUILD"
    case .binPersistentID: return "BINPERSID"
    case .binPut: return "BINPUT"
    case .longBinPut: return "LONG_BINPUT"
    case .memoize: return "MEMOIZE"
    case .binGet: return "BINGET"
    case .longBinGet: return "LONG_BINGET"
    }
  }

  /// Names of opcodes that exist in the pickle format but are refused, for messages.
  static func refusedName(_ byte: UInt8) -> String? {
    let names: [UInt8: String] = [
      0x69: "INST", 0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2",
      0x84: "EXT4", 0x50: "PERSID", 0x49: "INT", 0x4C: "LONG", 0x46: "FLOAT", 0x53: "STRING",
      0x56: "UNICODE", 0x70: "PUT", 0x67: "GET", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
      0x91: "FROZENSET", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
    return names[byte]
  }
}
