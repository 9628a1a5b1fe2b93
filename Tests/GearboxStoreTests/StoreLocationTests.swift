// `--store` URLs: the accepted forms and one-line input errors for the rest.

import GearboxCore
import GearboxStore
import GearboxTestSupport
import Testing

@Test func sqliteURLNamesAFile() throws {
    #expect(try StoreLocation(parsing: "sqlite:results/fleet.sqlite") == .sqlite(path: "results/fleet.sqlite"))
    #expect(try StoreLocation(parsing: "sqlite:///var/lib/gearbox.sqlite") == .sqlite(path: "/var/lib/gearbox.sqlite"))
}

@Test func postgresTCPURLHasUserHostPortAndDatabase() throws {
    let location = try StoreLocation(parsing: "postgres://lab@db.lab:6543/gearbox")
    #expect(location == .postgres(PostgresLocation(endpoint: .tcp(host: "db.lab", port: 6543), user: "lab", database: "gearbox")))
    #expect(try StoreLocation(parsing: "postgresql://lab:secret@db/gearbox")
        == .postgres(PostgresLocation(endpoint: .tcp(host: "db", port: 5432), user: "lab", password: "secret", database: "gearbox")))
    // The password never shows.
    #expect(!"\(try StoreLocation(parsing: "postgres://lab:secret@db/gearbox"))".contains("secret"))
}

@Test func postgresSocketURLTakesTheDirectoryFromHost() throws {
    let location = try StoreLocation(parsing: "postgresql:///gearbox?host=/tmp/pg/sock&user=postgres")
    guard case let .postgres(postgres) = location else { Issue.record("not postgres"); return }
    #expect(postgres.endpoint == .socket(directory: "/tmp/pg/sock", port: 5432))
    #expect(postgres.socketPath == "/tmp/pg/sock/.s.PGSQL.5432")
    #expect(postgres.user == "postgres")
    #expect(try StoreLocation(parsing: postgres.description) == location)
}

@Test(arguments: [
    "mysql://x@y/z", "sqlite:", "postgres://db/gearbox", "postgres://u@db", "postgres://u@db:99999/g",
    "postgresql:///g", "postgresql:///g?host=/s&colour=blue", "store.sqlite",
])
func badURLIsOneLineInputError(_ text: String) {
    do {
        _ = try StoreLocation(parsing: text)
        Issue.record("\(text) was accepted")
    } catch let error as StoreError {
        #expect(error.exitStatus == .inputError)
        let message = "\(error)"
        #expect(!message.contains("\n"))
        #expect(message.contains(text) && message.contains("sqlite:PATH"), "\(message)")
    } catch {
        Issue.record("unexpected \(error)")
    }
}

@Test func defaultStoreIsASQLiteFileInAnIgnoredFolder() throws {
    #expect(StoreLocation.default == .sqlite(path: ".gearbox/store.sqlite"))
    let ignore = try String(contentsOfFile: SharedFixtures.packageRoot + "/.gitignore", encoding: .utf8)
    #expect(ignore.split(separator: "\n").contains(".gearbox/"))
}
