import Foundation
import GearboxCore
import GearboxTestSupport
import Testing

@Suite struct FileLockTests {
    @Test func aHeldLockRefusesASecondTakerNamingTheHoldersPidAndCommand() throws {
        let scratch = ScratchDirectory("lock")
        let path = scratch.file("out.lut.json.lock")
        let first = try FileLock.acquire(path, purpose: "the output out.lut.json")
        defer { first.release() }
        // flock(2) locks belong to the open file, so a second open in this process conflicts as
        // another process's would.
        #expect(throws: FileLockError.held(path: path, purpose: "the output out.lut.json", holder: LockHolder.current)) {
            _ = try FileLock.acquire(path, purpose: "the output out.lut.json")
        }
        let message = "\(FileLockError.held(path: path, purpose: "the output out.lut.json", holder: LockHolder.current))"
        #expect(message.contains("pid \(getpid())") && message.contains("--wait"))
    }

    @Test func releasingRemovesTheLockFileAndLetsTheNextTakerIn() throws {
        let scratch = ScratchDirectory("lock")
        let path = scratch.file("x.lock")
        let first = try FileLock.acquire(path, purpose: "x")
        #expect(FileLock.holder(ofLockAt: path)?.pid == getpid())
        first.release()
        #expect(!FileManager.default.fileExists(atPath: path))
        let second = try FileLock.acquire(path, purpose: "x")
        second.release()
        second.release()  // twice is harmless
    }

    @Test func aLockFileLeftByAKilledHolderIsTakenOver() throws {
        let scratch = ScratchDirectory("lock")
        let path = scratch.file("x.lock")
        try "999999\ngearbox profile (killed)\n".write(toFile: path, atomically: false, encoding: .utf8)
        let lock = try FileLock.acquire(path, purpose: "x")
        defer { lock.release() }
        #expect(FileLock.holder(ofLockAt: path) == LockHolder.current)
    }

    @Test func aWaitingTakerGetsTheLockWhenTheHolderReleasesIt() throws {
        let scratch = ScratchDirectory("lock")
        let path = scratch.file("x.lock")
        let first = try FileLock.acquire(path, purpose: "x")
        let waiting = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let outcome = LockedBox<Result<LockHolder?, Error>>()
        let thread = Thread {
            outcome.value = Result {
                let lock = try FileLock.acquire(path, purpose: "x", wait: true) { _ in waiting.signal() }
                defer { lock.release() }
                return FileLock.holder(ofLockAt: path)
            }
            done.signal()
        }
        thread.start()
        waiting.wait()
        first.release()
        done.wait()
        #expect(try outcome.value?.get() == LockHolder.current)
    }

    @Test func aLockInAMissingFolderCannotBeTaken() {
        let scratch = ScratchDirectory("lock")
        #expect(throws: FileLockError.self) { _ = try FileLock.acquire(scratch.file("missing/x.lock"), purpose: "x") }
    }

    @Test func theMeasuringLockLivesInGearboxLockDirWhenSet() {
        #expect(MeasuringLock.path(environment: ["GEARBOX_LOCK_DIR": "/tmp/gearbox-x"]) == "/tmp/gearbox-x/gearbox-measuring.lock")
        let fallback = MeasuringLock.path(environment: [:])
        #expect(fallback == "/run/lock/gearbox-measuring.lock" || fallback == "/tmp/gearbox-measuring.lock")
    }

    @Test func aBusyLockIsAFailureNotAnInputError() {
        #expect(FileLockError.held(path: "x", purpose: "x", holder: nil).exitStatus == .failure)
    }
}

/// A value one thread sets and another reads after a semaphore.
private final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    var value: Value? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

@Suite struct AtomicFileBatchTests {
    @Test func aBatchThatFailsLeavesTheOldFilesAndNoFolderOrTemporaryFileItMade() throws {
        let scratch = ScratchDirectory("atomic")
        let old = scratch.file("report/index.html")
        try AtomicFile.write("old page", to: old)
        // A regular file where the second file's folder would go: creating the folder fails.
        try AtomicFile.write("in the way", to: scratch.file("blocker"))
        #expect(throws: FileFormatError.self) {
            try AtomicFile.write([
                (path: old, data: Data("new page".utf8)),
                (path: scratch.file("report/figures/a.svg"), data: Data("svg".utf8)),
                (path: scratch.file("blocker/inside/b.svg"), data: Data("svg".utf8)),
            ])
        }
        #expect(try String(contentsOfFile: old, encoding: .utf8) == "old page")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("report")) == ["index.html"])
    }
}
