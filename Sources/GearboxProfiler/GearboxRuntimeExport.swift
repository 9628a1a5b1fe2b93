// GearboxProfiler/GearboxRuntimeExport: the lookup table moved to GearboxRuntime (so an app can
// embed the selector without linking the profiler's C libraries). Re-exported here so that the
// many readers of profiles that import GearboxProfiler keep compiling without an extra import.

@_exported import GearboxRuntime
