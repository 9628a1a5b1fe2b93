// GearboxPolicy/GearboxRuntimeExport: the selector, objectives and durations moved to
// GearboxRuntime (so an app can embed the selector without the profiler's C libraries). This
// module's API is built on them (validation options hold a selector configuration, reports an
// objective), so it re-exports them for its users.

@_exported import GearboxRuntime
