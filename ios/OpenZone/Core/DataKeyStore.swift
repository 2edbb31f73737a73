// The store's 32-byte data key, kept in the Keychain: created once on this phone, readable after the first
// unlock (so that a relaunch in the background can open the store), never backed up or moved to another
// phone (`ThisDeviceOnly`: a restored backup cannot decrypt, and the app starts a fresh store).

import Foundation
import Security

struct KeychainError: Error, Equatable, CustomStringConvertible {
    let status: OSStatus
    let operation: String

    var description: String {
        let text = SecCopyErrorMessageString(status, nil) as String? ?? "OSStatus \(status)"
        return "Keychain \(operation) failed: \(text)"
    }
}

struct DataKeyStore {
    static let keyLength = 32

    /// The Keychain item's service and account (tests use their own).
    var service = "org.openzone.app.data-key"
    var account = "store"

    /// The key, created on first use.
    func loadOrCreate() throws -> Data {
        if let key = try load() {
            return key
        }
        let key = try Self.randomKey()
        var attributes = baseQuery
        attributes[kSecValueData as String] = key
        attributes[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        let status = SecItemAdd(attributes as CFDictionary, nil)
        switch status {
        case errSecSuccess:
            return key
        case errSecDuplicateItem:
            // Added meanwhile (two launches racing): use that one.
            if let key = try load() {
                return key
            }
            throw KeychainError(status: status, operation: "add")
        default:
            throw KeychainError(status: status, operation: "add")
        }
    }

    /// The key, or `nil` if there is none yet. Before the phone's first unlock after a restart this throws
    /// (`errSecInteractionNotAllowed`): the store cannot be opened until then.
    func load() throws -> Data? {
        var query = baseQuery
        query[kSecReturnData as String] = true
        query[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &result)
        switch status {
        case errSecSuccess:
            guard let key = result as? Data, key.count == Self.keyLength else {
                throw KeychainError(status: errSecDecode, operation: "read")
            }
            return key
        case errSecItemNotFound:
            return nil
        default:
            throw KeychainError(status: status, operation: "read")
        }
    }

    /// A new key in place of the old one ("delete my data"): the caller hands it to
    /// `OpenZonePhone.deleteAllData`, which reseals the emptied store under it.
    func replace() throws -> Data {
        try delete()
        return try loadOrCreate()
    }

    /// Deletes the key (with the store it opens: "start over" after the key was lost or changed).
    func delete() throws {
        let status = SecItemDelete(baseQuery as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KeychainError(status: status, operation: "delete")
        }
    }

    private var baseQuery: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
    }

    static func randomKey() throws -> Data {
        var bytes = [UInt8](repeating: 0, count: keyLength)
        let status = SecRandomCopyBytes(kSecRandomDefault, keyLength, &bytes)
        guard status == errSecSuccess else {
            throw KeychainError(status: status, operation: "random")
        }
        return Data(bytes)
    }
}
