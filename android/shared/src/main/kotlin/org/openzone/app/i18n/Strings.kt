// Every text the app shows, in Vietnamese (default) and English, as plain Kotlin so that the screen states
// are tested on the host JVM and a test checks that both languages have every key with the same
// placeholders. The language is chosen in the app's settings (not only by the phone's locale): a parent may
// read English on a phone set to Vietnamese. Android's res/values*/strings.xml hold only what the system
// shows outside the app (its name, notification channel names).
package org.openzone.app.i18n

/** Text keys. `{name}` placeholders are filled by [Texts.invoke]. */
enum class T {
    // Common
    APP_NAME, CONTINUE, BACK, CANCEL, OPEN_SETTINGS,

    // Navigation
    NAV_STATUS, NAV_EXPOSURE, NAV_POSITIVE, NAV_SETTINGS, NAV_QA,

    // Onboarding
    ONB_WELCOME_TITLE, ONB_WELCOME_BODY,
    ONB_PRIVACY_TITLE, ONB_COLLECTS_TITLE, ONB_COLLECTS_ENCOUNTERS, ONB_COLLECTS_KEYS,
    ONB_NOT_COLLECTED_TITLE, ONB_NOT_COLLECTED,
    ONB_CONSENT_TITLE, ONB_CONSENT_BODY, ONB_CONSENT_CHECK,
    ONB_NEARBY_TITLE, ONB_NEARBY_BODY, ONB_NEARBY_SCAN, ONB_NEARBY_ADVERTISE, ONB_NEARBY_CONNECT,
    ONB_LOCATION_TITLE, ONB_LOCATION_BODY,
    ONB_NOTIFICATIONS_TITLE, ONB_NOTIFICATIONS_BODY,
    ONB_BATTERY_TITLE, ONB_BATTERY_BODY, ONB_BATTERY_MAKER,
    ONB_DONE_TITLE, ONB_DONE_BODY,
    ONB_GRANT, ONB_DENIED,

    // Manufacturer guidance for background apps
    GUIDE_XIAOMI, GUIDE_OPPO, GUIDE_VIVO, GUIDE_SAMSUNG, GUIDE_HUAWEI, GUIDE_GENERIC,

    // Status
    STATUS_PROTECTED, STATUS_NOT_PROTECTED, STATUS_RUNNING_DETAIL, STATUS_RUNNING_QA_DETAIL,
    STATUS_STOPPED_DETAIL, STATUS_BT_OFF_DETAIL, STATUS_NEARBY_DETAIL, STATUS_LOCATION_DETAIL,
    STATUS_LOCATION_OFF_DETAIL, STATUS_FAILING_DETAIL, STATUS_NO_BLE_DETAIL,
    STATUS_LAST_SYNC, STATUS_NEVER_SYNCED,
    FIX_START, FIX_BLUETOOTH, FIX_NEARBY, FIX_LOCATION, FIX_LOCATION_SERVICES, FIX_BLUETOOTH_SETTINGS,
    ADVICE_BATTERY, FIX_BATTERY, ADVICE_NOTIFICATIONS, FIX_NOTIFICATIONS,

    // Exposure
    EXP_TITLE, EXP_NONE_HEADLINE, EXP_NONE_DETAIL, EXP_LOW_HEADLINE, EXP_LOW_DETAIL,
    EXP_AT_RISK_HEADLINE, EXP_AT_RISK_DETAIL,
    EXP_DAY_AT_RISK, EXP_DAY_LOW, EXP_DAY_MINUTES, EXP_DAY_ESTIMATED,
    PROX_IMMEDIATE, PROX_NEAR, PROX_MEDIUM, PROX_FAR,
    EXP_NEXT_TITLE, EXP_STEP_WATCH, EXP_STEP_TELL_SCHOOL, EXP_STEP_SYMPTOMS, EXP_STEP_PRIVATE,
    EXP_STEP_KEEP_ON, EXP_WHO_TO_CALL, CONTACT_HOTLINE, CONTACT_SCHOOL,

    // Positive report
    POS_TITLE, POS_INTRO, POS_CODE_LABEL, POS_ONSET_LABEL, POS_NO_SYMPTOMS, POS_CONSENT, POS_SUBMIT,
    ERR_CODE_FORMAT, ERR_DATE_MISSING, ERR_DATE_FUTURE, ERR_DATE_TOO_OLD, ERR_CONSENT,
    POS_SENDING, POS_SENT, POS_ERR_NETWORK, POS_ERR_NOT_CONFIGURED, POS_ERR_OTHER,

    // Settings
    SET_TITLE, SET_LANGUAGE, LANG_VI, LANG_EN, SET_PROTECTION, SET_PROTECTION_DETAIL,
    SET_DELETE, SET_DELETE_CONFIRM, SET_DELETE_YES, SET_DELETED, SET_DELETE_FAILED, SET_QA,
    SET_QA_DETAIL,

    // QA
    QA_TITLE, QA_IDENTIFIER, QA_NO_IDENTIFIER, QA_LIVE, QA_NOTHING_HEARD, QA_ROW, QA_TX_NONE,
    QA_ATTENUATION_NOTE, QA_KIND_EN, QA_KIND_BLUEZONE, QA_KIND_IPHONE, QA_KIND_OTHER,
    QA_DUTY, QA_DUTY_ROW, MODE_BACKGROUND, MODE_FOREGROUND, MODE_QA, QA_COUNTERS, QA_RADIO,
    QA_EXPORT,

    // Notifications
    NOTIF_SERVICE_TITLE, NOTIF_SERVICE_TEXT, NOTIF_AT_RISK_TITLE, NOTIF_AT_RISK_TEXT,
}

/** The tables. */
object Strings {
    fun table(language: Language): Map<T, String> = when (language) {
        Language.VI -> vi
        Language.EN -> en
    }

    private val vi: Map<T, String> = mapOf(
        T.APP_NAME to "OpenZone",
        T.CONTINUE to "Tiếp tục",
        T.BACK to "Quay lại",
        T.CANCEL to "Hủy",
        T.OPEN_SETTINGS to "Mở cài đặt",

        T.NAV_STATUS to "Trạng thái",
        T.NAV_EXPOSURE to "Kết quả",
        T.NAV_POSITIVE to "Báo dương tính",
        T.NAV_SETTINGS to "Cài đặt",
        T.NAV_QA to "QA",

        T.ONB_WELCOME_TITLE to "Chào mừng đến với OpenZone",
        T.ONB_WELCOME_BODY to "OpenZone báo cho học sinh, thầy cô và phụ huynh biết khi mình đã ở gần một người " +
            "sau đó có kết quả xét nghiệm dương tính. Các điện thoại trao đổi mã ngẫu nhiên qua Bluetooth: " +
            "không ai biết bạn là ai.",
        T.ONB_PRIVACY_TITLE to "Dữ liệu của bạn",
        T.ONB_COLLECTS_TITLE to "Ứng dụng ghi lại",
        T.ONB_COLLECTS_ENCOUNTERS to "Mã ngẫu nhiên của các điện thoại ở gần, cường độ tín hiệu và thời điểm: chỉ " +
            "lưu trên máy bạn, được mã hóa, tự xóa sau {retention} ngày.",
        T.ONB_COLLECTS_KEYS to "Khóa ngẫu nhiên của chính bạn: chỉ được gửi đi nếu bạn dương tính, có mã của cán " +
            "bộ y tế và bạn đồng ý.",
        T.ONB_NOT_COLLECTED_TITLE to "Ứng dụng không bao giờ thu thập",
        T.ONB_NOT_COLLECTED to "Tên, số điện thoại, vị trí, danh bạ, mã thiết bị hay tài khoản. Kết quả phơi " +
            "nhiễm chỉ hiện trên máy bạn và không gửi cho ai.",
        T.ONB_CONSENT_TITLE to "Bạn có đồng ý không?",
        T.ONB_CONSENT_BODY to "Để bảo vệ bạn, OpenZone chạy nền với một thông báo nhỏ cố định và dùng Bluetooth " +
            "cả ngày (quét khoảng 4 giây mỗi 4–5 phút). Bạn có thể tắt hoặc xóa dữ liệu bất cứ lúc nào trong Cài đặt.",
        T.ONB_CONSENT_CHECK to "Tôi đã hiểu và đồng ý",
        T.ONB_NEARBY_TITLE to "Quyền “Thiết bị ở gần”",
        T.ONB_NEARBY_BODY to "OpenZone không dùng quyền này để biết vị trí của bạn. Android gộp ba việc vào một quyền:",
        T.ONB_NEARBY_SCAN to "Quét: tìm các điện thoại ở gần.",
        T.ONB_NEARBY_ADVERTISE to "Phát: để điện thoại khác tìm thấy mã của bạn.",
        T.ONB_NEARBY_CONNECT to "Kết nối: đọc mã từ iPhone (iPhone chạy nền không phát mã ra ngoài).",
        T.ONB_LOCATION_TITLE to "Quyền vị trí (Android 11 trở xuống)",
        T.ONB_LOCATION_BODY to "Trên Android 11 trở xuống, hệ thống chỉ cho quét Bluetooth khi ứng dụng có quyền " +
            "vị trí và Vị trí đang bật. OpenZone không bao giờ đọc vị trí của bạn: không GPS, không bản đồ.",
        T.ONB_NOTIFICATIONS_TITLE to "Thông báo",
        T.ONB_NOTIFICATIONS_BODY to "Để báo cho bạn nếu bạn có nguy cơ, và để hiện thông báo nhỏ khi OpenZone đang " +
            "bảo vệ bạn.",
        T.ONB_BATTERY_TITLE to "Cho phép chạy nền",
        T.ONB_BATTERY_BODY to "Nhiều điện thoại tự dừng ứng dụng chạy nền để tiết kiệm pin. Hãy cho OpenZone bỏ qua " +
            "tối ưu hóa pin: OpenZone chỉ dùng radio khoảng 2% thời gian.",
        T.ONB_BATTERY_MAKER to "Với điện thoại của bạn:",
        T.ONB_DONE_TITLE to "Xong!",
        T.ONB_DONE_BODY to "OpenZone đang bảo vệ bạn. Hãy giữ Bluetooth bật.",
        T.ONB_GRANT to "Cho phép",
        T.ONB_DENIED to "Chưa được cấp quyền. Bạn có thể cấp sau trong cài đặt của điện thoại; đến lúc đó " +
            "OpenZone chưa bảo vệ được bạn.",

        T.GUIDE_XIAOMI to "Xiaomi, Redmi, POCO: Cài đặt › Ứng dụng › OpenZone: bật “Tự khởi động”, và trong " +
            "“Tiết kiệm pin” chọn “Không hạn chế”.",
        T.GUIDE_OPPO to "OPPO, realme, OnePlus: Cài đặt › Pin › OpenZone: bật “Cho phép hoạt động nền” và “Cho phép " +
            "tự khởi chạy”.",
        T.GUIDE_VIVO to "vivo, iQOO: Cài đặt › Pin › “Mức tiêu thụ điện năng nền cao”: bật cho OpenZone; và trong " +
            "i Manager bật “Tự khởi động”.",
        T.GUIDE_SAMSUNG to "Samsung: Cài đặt › Pin › Giới hạn sử dụng nền: bỏ OpenZone khỏi “Ứng dụng ngủ” và thêm " +
            "vào “Ứng dụng không bao giờ ngủ”.",
        T.GUIDE_HUAWEI to "Huawei, Honor: Cài đặt › Pin › Khởi chạy ứng dụng › OpenZone: chọn “Quản lý thủ công” " +
            "và bật cả ba mục.",
        T.GUIDE_GENERIC to "Nếu OpenZone hay bị dừng, xem hướng dẫn cho hãng điện thoại của bạn tại {url}",

        T.STATUS_PROTECTED to "Đang bảo vệ bạn",
        T.STATUS_NOT_PROTECTED to "Chưa bảo vệ bạn",
        T.STATUS_RUNNING_DETAIL to "Bluetooth đang làm việc. Hôm nay đã ghi nhận {count} lần gặp.",
        T.STATUS_RUNNING_QA_DETAIL to "Chế độ kiểm thử: quét liên tục. Hôm nay đã ghi nhận {count} lần gặp.",
        T.STATUS_STOPPED_DETAIL to "OpenZone đang tắt.",
        T.STATUS_BT_OFF_DETAIL to "Bluetooth đang tắt.",
        T.STATUS_NEARBY_DETAIL to "Thiếu quyền “Thiết bị ở gần”.",
        T.STATUS_LOCATION_DETAIL to "Thiếu quyền vị trí: Android 11 trở xuống cần quyền này để quét Bluetooth.",
        T.STATUS_LOCATION_OFF_DETAIL to "Vị trí đang tắt nên Android không cho quét Bluetooth. Mã của bạn vẫn " +
            "được phát.",
        T.STATUS_FAILING_DETAIL to "Bluetooth của điện thoại đang từ chối. Hãy tắt rồi bật lại Bluetooth.",
        T.STATUS_NO_BLE_DETAIL to "Điện thoại này không phát được Bluetooth LE: bạn vẫn nghe thấy người khác, " +
            "nhưng họ không nghe thấy bạn.",
        T.STATUS_LAST_SYNC to "Kiểm tra với máy chủ lần cuối: {date}",
        T.STATUS_NEVER_SYNCED to "Chưa kiểm tra với máy chủ",
        T.FIX_START to "Bật bảo vệ",
        T.FIX_BLUETOOTH to "Bật Bluetooth",
        T.FIX_NEARBY to "Cấp quyền Thiết bị ở gần",
        T.FIX_LOCATION to "Cấp quyền vị trí",
        T.FIX_LOCATION_SERVICES to "Bật Vị trí",
        T.FIX_BLUETOOTH_SETTINGS to "Mở cài đặt Bluetooth",
        T.ADVICE_BATTERY to "Điện thoại có thể dừng OpenZone để tiết kiệm pin.",
        T.FIX_BATTERY to "Cho phép chạy nền",
        T.ADVICE_NOTIFICATIONS to "Thông báo đang tắt: bạn sẽ không được báo khi có nguy cơ.",
        T.FIX_NOTIFICATIONS to "Bật thông báo",

        T.EXP_TITLE to "Kết quả phơi nhiễm",
        T.EXP_NONE_HEADLINE to "Không có tiếp xúc nguy cơ",
        T.EXP_NONE_DETAIL to "Trong {retention} ngày qua, bạn không ở gần ai đã báo kết quả dương tính.",
        T.EXP_LOW_HEADLINE to "Có tiếp xúc, nguy cơ thấp",
        T.EXP_LOW_DETAIL to "Bạn đã ở gần một người dương tính, nhưng trong thời gian ngắn hoặc ở xa. Không cần " +
            "làm gì thêm.",
        T.EXP_AT_RISK_HEADLINE to "Bạn có thể có nguy cơ",
        T.EXP_AT_RISK_DETAIL to "Ngày {date}, bạn đã ở gần một người sau đó có kết quả dương tính.",
        T.EXP_DAY_AT_RISK to "Có nguy cơ",
        T.EXP_DAY_LOW to "Nguy cơ thấp",
        T.EXP_DAY_MINUTES to "Khoảng {minutes} phút",
        T.EXP_DAY_ESTIMATED to "Cường độ tín hiệu được ước tính (điện thoại Bluezone)",
        T.PROX_IMMEDIATE to "Rất gần",
        T.PROX_NEAR to "Gần",
        T.PROX_MEDIUM to "Khoảng cách vừa",
        T.PROX_FAR to "Xa",
        T.EXP_NEXT_TITLE to "Nên làm gì",
        T.EXP_STEP_WATCH to "Theo dõi sức khỏe đến hết ngày {date}.",
        T.EXP_STEP_TELL_SCHOOL to "Báo cho cán bộ y tế trường hoặc giáo viên chủ nhiệm.",
        T.EXP_STEP_SYMPTOMS to "Nếu sốt, ho hoặc khó thở: gọi đường dây nóng và làm theo hướng dẫn.",
        T.EXP_STEP_PRIVATE to "Ứng dụng không báo kết quả này cho ai.",
        T.EXP_STEP_KEEP_ON to "Giữ OpenZone bật để được báo nếu có tiếp xúc.",
        T.EXP_WHO_TO_CALL to "Gọi cho ai",
        T.CONTACT_HOTLINE to "Đường dây nóng Bộ Y tế",
        T.CONTACT_SCHOOL to "Cán bộ y tế trường",

        T.POS_TITLE to "Tôi có kết quả dương tính",
        T.POS_INTRO to "Nhập mã {digits} chữ số do cán bộ y tế đưa. Các khóa ngẫu nhiên của những ngày bạn có thể lây " +
            "(không có tên hay vị trí) sẽ được gửi để báo cho những người đã ở gần bạn.",
        T.POS_CODE_LABEL to "Mã xác nhận ({digits} chữ số)",
        T.POS_ONSET_LABEL to "Ngày bắt đầu có triệu chứng",
        T.POS_NO_SYMPTOMS to "Tôi không có triệu chứng",
        T.POS_CONSENT to "Tôi đồng ý chia sẻ các khóa ngẫu nhiên của mình",
        T.POS_SUBMIT to "Gửi",
        T.ERR_CODE_FORMAT to "Mã gồm đúng {digits} chữ số.",
        T.ERR_DATE_MISSING to "Chọn ngày bắt đầu có triệu chứng, hoặc đánh dấu “không có triệu chứng”.",
        T.ERR_DATE_FUTURE to "Ngày này ở tương lai.",
        T.ERR_DATE_TOO_OLD to "Ngày này đã quá {days} ngày; hãy hỏi lại cán bộ y tế.",
        T.ERR_CONSENT to "Cần bạn đồng ý thì mới gửi được.",
        T.POS_SENDING to "Đang gửi…",
        T.POS_SENT to "Đã gửi {count} khóa. Cảm ơn bạn đã bảo vệ mọi người.",
        T.POS_ERR_NETWORK to "Không gửi được: hãy kiểm tra mạng rồi thử lại. Nếu vẫn lỗi, mã có thể đã hết hạn: " +
            "xin cán bộ y tế mã mới.",
        T.POS_ERR_NOT_CONFIGURED to "Ứng dụng chưa có địa chỉ máy chủ. Hãy báo cho nhà trường.",
        T.POS_ERR_OTHER to "Không gửi được: {reason}",

        T.SET_TITLE to "Cài đặt",
        T.SET_LANGUAGE to "Ngôn ngữ",
        T.LANG_VI to "Tiếng Việt",
        T.LANG_EN to "English",
        T.SET_PROTECTION to "Bảo vệ",
        T.SET_PROTECTION_DETAIL to "Khi tắt, OpenZone không phát và không quét.",
        T.SET_DELETE to "Xóa dữ liệu của tôi",
        T.SET_DELETE_CONFIRM to "Xóa mọi lần gặp đã ghi, khóa của bạn và kết quả phơi nhiễm? Không thể hoàn tác.",
        T.SET_DELETE_YES to "Xóa",
        T.SET_DELETED to "Đã xóa dữ liệu.",
        T.SET_DELETE_FAILED to "Không xóa được: {reason}",
        T.SET_QA to "Chế độ kiểm thử (QA)",
        T.SET_QA_DETAIL to "Cho người kiểm thử: quét liên tục, tốn pin hơn.",

        T.QA_TITLE to "Kiểm thử (QA)",
        T.QA_IDENTIFIER to "Mã đang phát",
        T.QA_NO_IDENTIFIER to "(không phát)",
        T.QA_LIVE to "Đang nghe thấy",
        T.QA_NOTHING_HEARD to "Chưa nghe thấy điện thoại nào.",
        T.QA_ROW to "{kind} · RSSI {rssi} dBm · TX {tx} · {count} lần · {age} giây trước",
        T.QA_TX_NONE to "?",
        T.QA_ATTENUATION_NOTE to "Độ suy hao (attenuation) = công suất phát của người gửi − RSSI đã hiệu chỉnh. " +
            "Công suất phát nằm trong AEM đã mã hóa, nên lõi chỉ tính được khi khóa khớp; ở đây chỉ hiện RSSI.",
        T.QA_KIND_EN to "OpenZone (EN)",
        T.QA_KIND_BLUEZONE to "Bluezone",
        T.QA_KIND_IPHONE to "iPhone (đọc GATT)",
        T.QA_KIND_OTHER to "Khác",
        T.QA_DUTY to "Thời gian dùng radio",
        T.QA_DUTY_ROW to "{mode}: quét {scan}, phát {advertise}, tổng {total}",
        T.MODE_BACKGROUND to "Nền",
        T.MODE_FOREGROUND to "Đang mở",
        T.MODE_QA to "QA",
        T.QA_COUNTERS to "Lượt quét {scans} · Đổi mã {rotations} · Lần gặp {sightings} (hôm nay {today}) · " +
            "GATT {ok} được, {failed} lỗi",
        T.QA_RADIO to "Lượt quét bị hoãn (giới hạn 5 lần/30 giây): {deferred} · Phát lại: {restarts} · Lỗi phát: {failure}",
        T.QA_EXPORT to "Xuất tệp chẩn đoán (không có khóa)",

        T.NOTIF_SERVICE_TITLE to "OpenZone đang bảo vệ bạn",
        T.NOTIF_SERVICE_TEXT to "Chạm để xem trạng thái",
        T.NOTIF_AT_RISK_TITLE to "Bạn có thể có nguy cơ",
        T.NOTIF_AT_RISK_TEXT to "Bạn đã ở gần một người có kết quả dương tính. Mở OpenZone để biết nên làm gì.",
    )

    private val en: Map<T, String> = mapOf(
        T.APP_NAME to "OpenZone",
        T.CONTINUE to "Continue",
        T.BACK to "Back",
        T.CANCEL to "Cancel",
        T.OPEN_SETTINGS to "Open settings",

        T.NAV_STATUS to "Status",
        T.NAV_EXPOSURE to "Result",
        T.NAV_POSITIVE to "Report positive",
        T.NAV_SETTINGS to "Settings",
        T.NAV_QA to "QA",

        T.ONB_WELCOME_TITLE to "Welcome to OpenZone",
        T.ONB_WELCOME_BODY to "OpenZone tells students, teachers and parents when they were near someone who later " +
            "tested positive. Phones swap random codes over Bluetooth: nobody learns who you are.",
        T.ONB_PRIVACY_TITLE to "Your data",
        T.ONB_COLLECTS_TITLE to "What the app records",
        T.ONB_COLLECTS_ENCOUNTERS to "Random codes of nearby phones, signal strength and time: kept only on your " +
            "phone, encrypted, deleted after {retention} days.",
        T.ONB_COLLECTS_KEYS to "Your own random keys: sent only if you test positive, with a code from a health " +
            "officer, and you agree.",
        T.ONB_NOT_COLLECTED_TITLE to "What it never collects",
        T.ONB_NOT_COLLECTED to "Name, phone number, location, contacts, device identifiers or accounts. Your " +
            "exposure result is shown only on your phone and sent to no one.",
        T.ONB_CONSENT_TITLE to "Do you agree?",
        T.ONB_CONSENT_BODY to "To protect you, OpenZone runs in the background with a small permanent notification " +
            "and uses Bluetooth all day (scanning about 4 seconds every 4 to 5 minutes). You can turn it off or " +
            "delete your data at any time in Settings.",
        T.ONB_CONSENT_CHECK to "I understand and agree",
        T.ONB_NEARBY_TITLE to "“Nearby devices” permission",
        T.ONB_NEARBY_BODY to "OpenZone never uses this permission to find where you are. Android groups three " +
            "things in it:",
        T.ONB_NEARBY_SCAN to "Scan: find phones nearby.",
        T.ONB_NEARBY_ADVERTISE to "Advertise: let other phones hear your code.",
        T.ONB_NEARBY_CONNECT to "Connect: read codes from iPhones (an iPhone in the background does not broadcast " +
            "them).",
        T.ONB_LOCATION_TITLE to "Location permission (Android 11 and older)",
        T.ONB_LOCATION_BODY to "On Android 11 and older, the system allows Bluetooth scanning only when the app has " +
            "the location permission and Location is on. OpenZone never reads your location: no GPS, no maps.",
        T.ONB_NOTIFICATIONS_TITLE to "Notifications",
        T.ONB_NOTIFICATIONS_BODY to "To tell you if you are at risk, and to show the small notice while OpenZone " +
            "protects you.",
        T.ONB_BATTERY_TITLE to "Allow running in the background",
        T.ONB_BATTERY_BODY to "Many phones stop background apps to save battery. Let OpenZone ignore battery " +
            "optimisation: it uses the radio about 2% of the time.",
        T.ONB_BATTERY_MAKER to "On your phone:",
        T.ONB_DONE_TITLE to "All set",
        T.ONB_DONE_BODY to "OpenZone is protecting you. Keep Bluetooth on.",
        T.ONB_GRANT to "Allow",
        T.ONB_DENIED to "Not granted. You can grant it later in the phone's settings; until then OpenZone cannot " +
            "protect you.",

        T.GUIDE_XIAOMI to "Xiaomi, Redmi, POCO: Settings › Apps › OpenZone: turn on “Autostart”, and under " +
            "“Battery saver” choose “No restrictions”.",
        T.GUIDE_OPPO to "OPPO, realme, OnePlus: Settings › Battery › OpenZone: turn on “Allow background activity” " +
            "and “Allow auto launch”.",
        T.GUIDE_VIVO to "vivo, iQOO: Settings › Battery › “High background power consumption”: turn it on for " +
            "OpenZone; and in i Manager turn on “Autostart”.",
        T.GUIDE_SAMSUNG to "Samsung: Settings › Battery › Background usage limits: remove OpenZone from “Sleeping " +
            "apps” and add it to “Never sleeping apps”.",
        T.GUIDE_HUAWEI to "Huawei, Honor: Settings › Battery › App launch › OpenZone: choose “Manage manually” and " +
            "turn on all three switches.",
        T.GUIDE_GENERIC to "If OpenZone keeps stopping, see the guide for your phone's maker at {url}",

        T.STATUS_PROTECTED to "Protection is on",
        T.STATUS_NOT_PROTECTED to "Not protecting you",
        T.STATUS_RUNNING_DETAIL to "Bluetooth is working. {count} encounters recorded today.",
        T.STATUS_RUNNING_QA_DETAIL to "Test mode: scanning continuously. {count} encounters recorded today.",
        T.STATUS_STOPPED_DETAIL to "OpenZone is off.",
        T.STATUS_BT_OFF_DETAIL to "Bluetooth is off.",
        T.STATUS_NEARBY_DETAIL to "The “Nearby devices” permission is missing.",
        T.STATUS_LOCATION_DETAIL to "The location permission is missing: Android 11 and older need it to scan " +
            "for Bluetooth.",
        T.STATUS_LOCATION_OFF_DETAIL to "Location is off, so Android blocks Bluetooth scanning. Your codes are " +
            "still sent.",
        T.STATUS_FAILING_DETAIL to "The phone's Bluetooth is refusing. Turn Bluetooth off and on again.",
        T.STATUS_NO_BLE_DETAIL to "This phone cannot advertise over Bluetooth LE: you still hear others, but they " +
            "cannot hear you.",
        T.STATUS_LAST_SYNC to "Last checked with the server: {date}",
        T.STATUS_NEVER_SYNCED to "Not checked with the server yet",
        T.FIX_START to "Turn on protection",
        T.FIX_BLUETOOTH to "Turn on Bluetooth",
        T.FIX_NEARBY to "Allow Nearby devices",
        T.FIX_LOCATION to "Allow location",
        T.FIX_LOCATION_SERVICES to "Turn on Location",
        T.FIX_BLUETOOTH_SETTINGS to "Open Bluetooth settings",
        T.ADVICE_BATTERY to "The phone may stop OpenZone to save battery.",
        T.FIX_BATTERY to "Allow in the background",
        T.ADVICE_NOTIFICATIONS to "Notifications are off: you will not be told if you are at risk.",
        T.FIX_NOTIFICATIONS to "Turn on notifications",

        T.EXP_TITLE to "Exposure result",
        T.EXP_NONE_HEADLINE to "No risky contact",
        T.EXP_NONE_DETAIL to "In the last {retention} days you were not near anyone who reported a positive test.",
        T.EXP_LOW_HEADLINE to "Contact found, low risk",
        T.EXP_LOW_DETAIL to "You were near someone who tested positive, but briefly or far away. Nothing more to do.",
        T.EXP_AT_RISK_HEADLINE to "You may be at risk",
        T.EXP_AT_RISK_DETAIL to "On {date} you were near someone who later tested positive.",
        T.EXP_DAY_AT_RISK to "At risk",
        T.EXP_DAY_LOW to "Low risk",
        T.EXP_DAY_MINUTES to "About {minutes} minutes",
        T.EXP_DAY_ESTIMATED to "Signal strength estimated (Bluezone phone)",
        T.PROX_IMMEDIATE to "Very close",
        T.PROX_NEAR to "Close",
        T.PROX_MEDIUM to "Medium distance",
        T.PROX_FAR to "Far",
        T.EXP_NEXT_TITLE to "What to do next",
        T.EXP_STEP_WATCH to "Watch your health until the end of {date}.",
        T.EXP_STEP_TELL_SCHOOL to "Tell the school health officer or your class teacher.",
        T.EXP_STEP_SYMPTOMS to "If you have a fever, a cough or trouble breathing: call the hotline and follow its " +
            "advice.",
        T.EXP_STEP_PRIVATE to "The app tells no one about this result.",
        T.EXP_STEP_KEEP_ON to "Keep OpenZone on to be told about contacts.",
        T.EXP_WHO_TO_CALL to "Who to call",
        T.CONTACT_HOTLINE to "Ministry of Health hotline",
        T.CONTACT_SCHOOL to "School health officer",

        T.POS_TITLE to "I tested positive",
        T.POS_INTRO to "Enter the {digits}-digit code the health officer gave you. The random keys of the days you " +
            "may have been contagious (no name, no location) are sent so that people who were near you are told.",
        T.POS_CODE_LABEL to "Verification code ({digits} digits)",
        T.POS_ONSET_LABEL to "Date symptoms started",
        T.POS_NO_SYMPTOMS to "I have no symptoms",
        T.POS_CONSENT to "I agree to share my random keys",
        T.POS_SUBMIT to "Send",
        T.ERR_CODE_FORMAT to "The code is exactly {digits} digits.",
        T.ERR_DATE_MISSING to "Choose the date symptoms started, or tick “no symptoms”.",
        T.ERR_DATE_FUTURE to "That date is in the future.",
        T.ERR_DATE_TOO_OLD to "That date is more than {days} days ago; ask the health officer again.",
        T.ERR_CONSENT to "Your agreement is needed to send.",
        T.POS_SENDING to "Sending…",
        T.POS_SENT to "{count} keys sent. Thank you for protecting others.",
        T.POS_ERR_NETWORK to "Could not send: check the connection and try again. If it still fails, the code may " +
            "have expired: ask the health officer for a new one.",
        T.POS_ERR_NOT_CONFIGURED to "The app has no server address. Please tell the school.",
        T.POS_ERR_OTHER to "Could not send: {reason}",

        T.SET_TITLE to "Settings",
        T.SET_LANGUAGE to "Language",
        T.LANG_VI to "Tiếng Việt",
        T.LANG_EN to "English",
        T.SET_PROTECTION to "Protection",
        T.SET_PROTECTION_DETAIL to "When off, OpenZone neither advertises nor scans.",
        T.SET_DELETE to "Delete my data",
        T.SET_DELETE_CONFIRM to "Delete every recorded encounter, your keys and your exposure result? This cannot " +
            "be undone.",
        T.SET_DELETE_YES to "Delete",
        T.SET_DELETED to "Your data was deleted.",
        T.SET_DELETE_FAILED to "Could not delete: {reason}",
        T.SET_QA to "Test mode (QA)",
        T.SET_QA_DETAIL to "For testers: scans continuously, uses more battery.",

        T.QA_TITLE to "QA",
        T.QA_IDENTIFIER to "Identifier on air",
        T.QA_NO_IDENTIFIER to "(not advertising)",
        T.QA_LIVE to "Heard now",
        T.QA_NOTHING_HEARD to "No phone heard yet.",
        T.QA_ROW to "{kind} · RSSI {rssi} dBm · TX {tx} · {count}× · {age} s ago",
        T.QA_TX_NONE to "?",
        T.QA_ATTENUATION_NOTE to "Attenuation = the sender's TX power − the calibrated RSSI. The TX power is in the " +
            "encrypted AEM, so the core computes it only when keys match; only RSSI is shown here.",
        T.QA_KIND_EN to "OpenZone (EN)",
        T.QA_KIND_BLUEZONE to "Bluezone",
        T.QA_KIND_IPHONE to "iPhone (GATT read)",
        T.QA_KIND_OTHER to "Other",
        T.QA_DUTY to "Radio duty",
        T.QA_DUTY_ROW to "{mode}: scan {scan}, advertise {advertise}, total {total}",
        T.MODE_BACKGROUND to "Background",
        T.MODE_FOREGROUND to "Foreground",
        T.MODE_QA to "QA",
        T.QA_COUNTERS to "Scans {scans} · Rotations {rotations} · Sightings {sightings} (today {today}) · " +
            "GATT {ok} ok, {failed} failed",
        T.QA_RADIO to "Scan starts deferred (limit 5 per 30 s): {deferred} · Advertiser restarts: {restarts} · " +
            "Advertising failure: {failure}",
        T.QA_EXPORT to "Export diagnostics (no keys)",

        T.NOTIF_SERVICE_TITLE to "OpenZone is protecting you",
        T.NOTIF_SERVICE_TEXT to "Tap to see the status",
        T.NOTIF_AT_RISK_TITLE to "You may be at risk",
        T.NOTIF_AT_RISK_TEXT to "You were near someone who tested positive. Open OpenZone to see what to do.",
    )
}
