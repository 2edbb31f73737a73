// The data key in the Keychain (the simulator's, under a service of the tests' own).

import XCTest
@testable import OpenZone

final class DataKeyStoreTests: XCTestCase {
    private let store = DataKeyStore(service: "org.openzone.tests.data-key", account: UUID().uuidString)

    override func tearDownWithError() throws {
        try store.delete()
        try super.tearDownWithError()
    }

    func testTheKeyIsCreatedOnceAndKept() throws {
        XCTAssertNil(try store.load())
        let key = try store.loadOrCreate()
        XCTAssertEqual(key.count, 32)
        XCTAssertEqual(try store.loadOrCreate(), key)
        XCTAssertEqual(try store.load(), key)
    }

    func testDeletingTheKeyMakesANewOne() throws {
        let first = try store.loadOrCreate()
        try store.delete()
        XCTAssertNil(try store.load())
        XCTAssertNotEqual(try store.loadOrCreate(), first)
    }

    func testReplacingTheKeyKeepsTheNewOne() throws {
        let first = try store.loadOrCreate()
        let second = try store.replace()
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(second.count, 32)
        XCTAssertEqual(try store.load(), second)
    }

    func testRandomKeysDiffer() throws {
        XCTAssertNotEqual(try DataKeyStore.randomKey(), try DataKeyStore.randomKey())
    }
}
