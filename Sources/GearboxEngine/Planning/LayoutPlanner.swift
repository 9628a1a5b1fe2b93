// GearboxEngine/LayoutPlanner: keeps runs of layers XNNPACK executes in NHWC. After fusion and
// weight conversion it finds connected runs of operations that can work on NHWC values — dense
// convolutions XNNPACK runs (ungrouped or depthwise, with bias, residual Add and ReLU/ReLU6
// fused), element-wise operators on equal shapes, MaxPool, AveragePool, GlobalAveragePool — and moves every run with at
// least two such convolutions to NHWC. Layout conversions are inserted only where a run meets
// the rest of the graph: values read from outside (graph inputs, layers on Gearbox's own NCHW
// kernels such as the pruned formats), and values read by NCHW operators, views or graph outputs.
// A lone convolution keeps its NCHW step, whose transposes are fused into its own tasks.

/// What the planner decided for one model.
struct LayoutPlanSummary: Sendable, Equatable {
    /// Operations that read and write NHWC values.
    var nhwcOperations = 0
    /// Conversion steps inserted (each one NCHW → NHWC or back).
    var conversions = 0
    /// NHWC runs (connected groups of NHWC operations).
    var runs = 0
}

/// Operations the planner can move to NHWC: it redirects their inputs and output to NHWC twins.
protocol LayoutRewritable: PlannedOperation {
    var output: Int { get set }
    func replaceInput(_ old: Int, with new: Int)
}

extension ConvOperation: LayoutRewritable {
    func replaceInput(_ old: Int, with new: Int) {
        if input == old { input = new }
        if residual == old { residual = new }
    }
}

extension PoolOperation: LayoutRewritable {
    func replaceInput(_ old: Int, with new: Int) { if input == old { input = new } }
}

extension UnaryOperation: LayoutRewritable {
    func replaceInput(_ old: Int, with new: Int) { if input == old { input = new } }
}

extension BinaryOperation: LayoutRewritable {
    func replaceInput(_ old: Int, with new: Int) {
        if a == old { a = new }
        if b == old { b = new }
    }
}

struct LayoutPlanner {
    let compiler: ModelCompiler

    /// Runs with fewer XNNPACK convolutions stay NCHW.
    static let minimumConvolutionsPerRun = 2

    private enum Role { case convolution, follower, outside }

    /// Plans layouts, rewrites the operation list and creates every convolution's XNNPACK
    /// operators (NHWC or NCHW).
    func run() -> LayoutPlanSummary {
        var summary = LayoutPlanSummary()
        var refused = Set<ObjectIdentifier>()
        var accepted: [[Int]] = []
        if compiler.options.plansNHWCRuns {
            // XNNPACK may refuse a layer's operators; such a layer leaves its run and the runs are found again.
            planning: while true {
                accepted = acceptedRuns(refused: refused)
                for run in accepted {
                    for index in run {
                        guard let conv = compiler.operations[index] as? ConvOperation else { continue }
                        conv.layout = .nhwc
                        if !conv.prepareXNNPACK() {
                            refused.insert(ObjectIdentifier(conv))
                            for op in compiler.operations { (op as? ConvOperation)?.layout = .nchw }
                            continue planning
                        }
                    }
                }
                break
            }
        }
        let members = Set(accepted.joined())
        for op in compiler.operations {
            if let conv = op as? ConvOperation, conv.layout == .nchw { conv.prepareXNNPACK() }
        }
        if !members.isEmpty { summary.conversions = rewrite(members) }
        summary.nhwcOperations = members.count
        summary.runs = accepted.count
        return summary
    }

    // MARK: Runs

    private func shape(_ id: Int) -> [Int] { compiler.values[id].shape }
    private func isConstant(_ id: Int) -> Bool { compiler.values[compiler.root(id)].constant != nil }

    private func role(_ op: any PlannedOperation, refused: Set<ObjectIdentifier>) -> Role {
        guard op.inputs.allSatisfy({ shape($0).count == 4 && !isConstant($0) }) else { return .outside }
        switch op {
        case let conv as ConvOperation:
            return conv.canRunNHWC && !refused.contains(ObjectIdentifier(conv)) ? .convolution : .outside
        case let pool as PoolOperation:
            switch pool.kind {
            case .globalAverage, .max, .average: return .follower
            default: return .outside
            }
        case let unary as UnaryOperation:
            return shape(unary.input) == shape(unary.output) ? .follower : .outside
        case let binary as BinaryOperation:
            let s = shape(binary.output)
            return shape(binary.a) == s && shape(binary.b) == s ? .follower : .outside
        default:
            return .outside
        }
    }

    /// Connected groups of NHWC-capable operations (linked through values one produces and the
    /// other reads) holding at least `minimumConvolutionsPerRun` convolutions, in op order.
    private func acceptedRuns(refused: Set<ObjectIdentifier>) -> [[Int]] {
        let ops = compiler.operations
        let roles = ops.map { role($0, refused: refused) }
        var parent = Array(ops.indices)
        func find(_ i: Int) -> Int {
            var r = i
            while parent[r] != r { r = parent[r] }
            return r
        }
        var producer: [Int: Int] = [:]
        for (index, op) in ops.enumerated() { for id in op.outputs { producer[id] = index } }
        for (index, op) in ops.enumerated() where roles[index] != .outside {
            for id in op.inputs {
                guard let p = producer[id], roles[p] != .outside else { continue }
                parent[find(index)] = find(p)
            }
        }
        var groups: [Int: [Int]] = [:]
        for index in ops.indices where roles[index] != .outside { groups[find(index), default: []].append(index) }
        return groups.values
            .filter { run in run.filter { roles[$0] == .convolution }.count >= Self.minimumConvolutionsPerRun }
            .sorted { $0[0] < $1[0] }
    }

    // MARK: Rewriting

    /// Gives every non-trivial value an NHWC run writes an NHWC twin, and inserts conversions at
    /// the run's boundary. Returns the number of conversions.
    private func rewrite(_ members: Set<Int>) -> Int {
        let ops = compiler.operations
        // Values that must also exist in NCHW: read by an operation outside the runs, viewed, or graph outputs.
        var readOutside = Set(compiler.graphOutputIDs)
        for source in compiler.aliasOf.values { readOutside.insert(source) }
        for (index, op) in ops.enumerated() where !members.contains(index) { readOutside.formUnion(op.inputs) }

        var twin: [Int: Int] = [:]
        var rewritten: [any PlannedOperation] = []
        var conversions = 0
        func convert(_ from: Int, to: Int, _ target: TensorLayout, label: NodeLabel) {
            let name = compiler.values[from].name.isEmpty ? label.name : compiler.values[from].name
            rewritten.append(LayoutConversionOperation(label: NodeLabel(name: "\(name) to \(target == .nhwc ? "NHWC" : "NCHW")", opType: "LayoutConversion"),
                                                       input: from, output: to, shape: shape(from), target: target))
            conversions += 1
        }
        for (index, op) in ops.enumerated() {
            guard members.contains(index), let member = op as? any LayoutRewritable else {
                rewritten.append(op)
                continue
            }
            // In input order (not a Set's), so that every load plans the same steps.
            var seen = Set<Int>()
            for id in member.inputs where seen.insert(id).inserted && !TensorLayout.isLayoutFree(shape(id)) {
                if let existing = twin[id] {
                    member.replaceInput(id, with: existing)
                } else {
                    let fresh = compiler.define("", shape: shape(id))
                    convert(id, to: fresh, .nhwc, label: member.label)
                    twin[id] = fresh
                    member.replaceInput(id, with: fresh)
                }
            }
            if let pool = member as? PoolOperation { pool.nhwcChannels = shape(pool.input)[1] }
            let output = member.output
            guard !TensorLayout.isLayoutFree(shape(output)) else {
                rewritten.append(member)
                continue
            }
            let fresh = compiler.define("", shape: shape(output))
            member.output = fresh
            twin[output] = fresh
            rewritten.append(member)
            if readOutside.contains(output) { convert(fresh, to: output, .nchw, label: member.label) }
        }
        compiler.operations = rewritten
        return conversions
    }
}
