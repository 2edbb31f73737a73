// Both languages have every text the code uses, with the same placeholders, the protocol's numbers filled
// from the core; so does the Bluetooth permission text.

import OpenZoneCore
import XCTest
@testable import OpenZone

final class LocalizationTests: XCTestCase {
    private func table(_ name: String, _ language: AppLanguage) throws -> [String: String] {
        let path = try XCTUnwrap(
            Bundle.main.path(forResource: name, ofType: "strings", inDirectory: nil, forLocalization: language.rawValue),
            "\(name).strings is missing for \(language.rawValue)")
        return try XCTUnwrap(NSDictionary(contentsOfFile: path) as? [String: String])
    }

    func testBothLanguagesHaveTheSameKeys() throws {
        let vietnamese = try table("Localizable", .vietnamese)
        let english = try table("Localizable", .english)
        XCTAssertEqual(Set(vietnamese.keys).subtracting(english.keys), [], "only in Vietnamese")
        XCTAssertEqual(Set(english.keys).subtracting(vietnamese.keys), [], "only in English")
    }

    func testEveryKeyTheCodeUsesIsTranslated() throws {
        for language in AppLanguage.allCases {
            let strings = try table("Localizable", language)
            let missing = L10nKey.allCases.map(\.rawValue).filter { strings[$0] == nil }
            XCTAssertEqual(missing, [], language.rawValue)
            let l10n = L10n(language: language)
            for key in L10nKey.allCases {
                XCTAssertNotEqual(l10n[key], key.rawValue, "\(language.rawValue): \(key.rawValue)")
            }
        }
    }

    func testPlaceholdersMatchAcrossLanguages() throws {
        let vietnamese = try table("Localizable", .vietnamese)
        let english = try table("Localizable", .english)
        let pattern = try NSRegularExpression(pattern: "%(lld|ld|d|@|\\.1f)")
        func placeholders(_ text: String) -> [String] {
            pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                Range($0.range, in: text).map { String(text[$0]) }
            }
        }
        for (key, text) in english {
            XCTAssertEqual(placeholders(vietnamese[key] ?? ""), placeholders(text), key)
        }
    }

    func testTheProtocolsNumbersComeFromTheCore() {
        let constants = protocolConstants()
        for language in AppLanguage.allCases {
            let l10n = L10n(language: language)
            XCTAssertTrue(l10n[.positiveCode].contains(String(constants.codeDigits)), l10n[.positiveCode])
            XCTAssertTrue(l10n[.exposureNoneDetail].contains(String(constants.retentionDays)), l10n[.exposureNoneDetail])
            for key in L10nKey.allCases {
                XCTAssertFalse(l10n[key].contains("{retention}") || l10n[key].contains("{digits}"), key.rawValue)
            }
        }
    }

    func testTheBluetoothPermissionIsExplainedInBothLanguages() throws {
        for language in AppLanguage.allCases {
            let info = try table("InfoPlist", language)
            XCTAssertFalse((info["NSBluetoothAlwaysUsageDescription"] ?? "").isEmpty, language.rawValue)
        }
        XCTAssertNotNil(Bundle.main.object(forInfoDictionaryKey: "NSBluetoothAlwaysUsageDescription"))
    }

    func testVietnameseIsTheDefault() {
        XCTAssertEqual(freshPreferences().language, .vietnamese)
        XCTAssertEqual(Bundle.main.developmentLocalization, "vi")
        XCTAssertEqual(L10n(language: .vietnamese)[.navSettings], "Cài đặt")
        XCTAssertEqual(L10n(language: .english)[.navSettings], "Settings")
    }

    func testDatesAndSharesAreWrittenAsEachLanguageWritesThem() {
        XCTAssertEqual(L10n(language: .vietnamese).day("2024-05-03"), "03/05/2024")
        XCTAssertEqual(L10n(language: .english).day("2024-05-03"), "3 May 2024")
        XCTAssertEqual(L10n(language: .vietnamese).percent(0.0153), "1,5%")
        XCTAssertEqual(L10n(language: .english).percent(0.0153), "1.5%")
        XCTAssertEqual(L10n(language: .english).day("garbage"), "garbage")
    }
}
