// GearboxEngine/Formats/MaskedWeightMatrix: the `masked` format (All-in-One style): one dense
// weight set shared by several channel masks, switched at run time without copying weights.
//
// Design. Channels are stored in importance order, so every mask is a channel prefix: the
// first `activeRows` output rows (filters) and the first `activeColumns` reduction columns
// (for a Conv, the first input channels × kH·kW, because im2col orders K channel-major). The
// kernel therefore runs sgemm on the active sub-matrix in place, with the full leading
// dimension, reading only the first `activeColumns` rows of B: masked channels cost no work
// (they are not multiplied by zero), and inactive output rows are written as zero so the
// next layer stays correct. A `MaskSelection` (one per model, shared by every masked layer)
// holds the current level; switching it is O(1) for the whole model and copies nothing.
// Weights live in a `SharedWeightStorage` (a class) so views and levels share one buffer.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Dense weights shared by every mask of one layer (never copied when masks switch).
public final class SharedWeightStorage: Sendable {
    public let rows: Int
    public let columns: Int
    /// rows × columns values, row-major, channels in importance order.
    public var values: [Float] { Array(weights) }
    /// The values the kernel reads (owned, or borrowed from a packed file's mapping).
    let weights: WeightArray<Float>

    public init(_ weights: DenseWeights) {
        rows = weights.rows
        columns = weights.columns
        self.weights = WeightArray(weights.values)
    }

    /// Wraps `rows × columns` values read back from a packed file.
    init(rows: Int, columns: Int, weights: WeightArray<Float>) {
        self.rows = rows
        self.columns = columns
        self.weights = weights
    }

    /// Address of the first weight, for checking that views share one buffer.
    public var baseAddress: UnsafeRawPointer? { weights.baseAddress }
}

/// A channel-prefix mask of one layer: rows 0..<activeRows and columns 0..<activeColumns.
public struct ChannelPrefixMask: Hashable, Sendable, Codable {
    /// Output rows (filters) kept: the first `activeRows`.
    public let activeRows: Int
    /// Reduction columns kept: the first `activeColumns`.
    public let activeColumns: Int

    public init(activeRows: Int, activeColumns: Int) {
        self.activeRows = activeRows
        self.activeColumns = activeColumns
    }

    /// A Conv/Gemm mask from channel counts: K is channel-major, so `inputChannels` channels
    /// span `inputChannels × kernelArea` columns (kernelArea = kH·kW; 1 for Gemm).
    public init(outputChannels: Int, inputChannels: Int, kernelArea: Int = 1) {
        self.init(activeRows: outputChannels, activeColumns: inputChannels * kernelArea)
    }

    /// Multiply-adds per column of B under this mask.
    public var multiplyAddsPerColumn: Int { activeRows * activeColumns }
}

/// The active mask level of a whole model, shared by all its masked layers.
public final class MaskSelection: @unchecked Sendable {
    /// Number of levels (e.g. 4 for 25/50/75/100 % channels).
    public let levelCount: Int
    private let lock = MaskLevelLock()
    private var current: Int

    /// `levelCount` levels, starting at `initialLevel`.
    public init(levelCount: Int, initialLevel: Int = 0) throws {
        guard levelCount > 0 else { throw WeightFormatError.invalidMask(reason: "a mask selection needs at least one level") }
        guard (0..<levelCount).contains(initialLevel) else {
            throw WeightFormatError.maskLevelOutOfRange(level: initialLevel, count: levelCount)
        }
        self.levelCount = levelCount
        current = initialLevel
    }

    /// The level every masked layer sharing this selection uses now.
    public var level: Int { lock.withLock { current } }

    /// Switches every layer sharing this selection to `level` (no weights move). Switch between
    /// inferences: a run that overlaps a switch may see both masks.
    public func select(level: Int) throws {
        guard (0..<levelCount).contains(level) else {
            throw WeightFormatError.maskLevelOutOfRange(level: level, count: levelCount)
        }
        lock.withLock { current = level }
    }
}

/// One layer's shared dense weights seen through the mask its `MaskSelection` selects.
public struct MaskedWeightMatrix: RowRangeMultiplying {
    /// The shared dense weights.
    public let storage: SharedWeightStorage
    /// One mask per selection level.
    public let masks: [ChannelPrefixMask]
    /// The model-wide switch choosing the level.
    public let selection: MaskSelection

    /// A layer over `storage` with one mask per level of `selection`.
    public init(storage: SharedWeightStorage, masks: [ChannelPrefixMask], selection: MaskSelection) throws {
        guard masks.count == selection.levelCount else {
            throw WeightFormatError.invalidMask(
                reason: "\(masks.count) masks for a selection of \(selection.levelCount) levels: give one mask per level")
        }
        for mask in masks {
            guard (0...storage.rows).contains(mask.activeRows), (0...storage.columns).contains(mask.activeColumns) else {
                throw WeightFormatError.invalidMask(
                    reason: "mask \(mask.activeRows)×\(mask.activeColumns) exceeds the \(storage.rows)×\(storage.columns) weights")
            }
        }
        self.storage = storage
        self.masks = masks
        self.selection = selection
    }

    /// A single fixed mask over `storage` (its own one-level selection).
    public init(storage: SharedWeightStorage, mask: ChannelPrefixMask) throws {
        try self.init(storage: storage, masks: [mask], selection: MaskSelection(levelCount: 1))
    }

    public var rows: Int { storage.rows }
    public var columns: Int { storage.columns }
    public var formatName: String { WeightFormat.masked.rawValue }

    /// The mask in force now.
    public var activeMask: ChannelPrefixMask { masks[selection.level] }

    /// The shared weights plus the masks (the weights are counted once per storage, but a
    /// profiler summing layers that share storage should count it once).
    public var storedBytes: Int {
        storage.weights.byteCount + masks.count * MemoryLayout<ChannelPrefixMask>.size
    }

    public func multiply(_ b: UnsafePointer<Float>, ldb: Int, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        multiply(rows: 0..<storage.rows, b, ldb: ldb, n: n, into: c, ldc: ldc)
    }

    /// C[r, ·] for r in `range` only (`c` points at row 0 of C): sgemm over the active rows of
    /// the range, zeros for its inactive rows.
    public func multiply(rows range: Range<Int>, _ b: UnsafePointer<Float>, ldb: Int, n: Int,
                         into c: UnsafeMutablePointer<Float>, ldc: Int) {
        let mask = activeMask
        let range = range.clamped(to: 0..<storage.rows)
        guard n > 0, !range.isEmpty else { return }
        let active = range.clamped(to: 0..<mask.activeRows)
        if !active.isEmpty {
            if mask.activeColumns == 0 {
                for row in active { zeroFill(c + row * ldc, count: n) }
            } else {
                storage.weights.withUnsafeBufferPointer { weights in
                    guard let a = weights.baseAddress else { return }
                    BLAS.sgemm(m: active.count, n: n, k: mask.activeColumns, a: a + active.lowerBound * storage.columns,
                               lda: storage.columns, b: b, ldb: ldb, c: c + active.lowerBound * ldc, ldc: ldc)
                }
            }
        }
        for row in range where row >= mask.activeRows { zeroFill(c + row * ldc, count: n) }
    }
}

/// A pthread mutex guarding a `MaskSelection`'s level (Foundation-free; Synchronization.Mutex
/// would need macOS 15).
final class MaskLevelLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
