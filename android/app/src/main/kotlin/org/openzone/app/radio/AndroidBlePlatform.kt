// The core's BlePlatform on Android: BluetoothLeAdvertiser, BluetoothLeScanner, a GATT server and GATT
// client reads. Decisions live in the shared module (ScanController, AdvertiserController, GattReadSession,
// ScanRecordMapper, ScanFilterPlan, GattServerResponder, all tested on the host JVM); this file only calls
// Android. Every Android call runs on one HandlerThread, so the controllers see one thread, and the phone
// is never called back from inside one of its own calls (its methods return at once).
package org.openzone.app.radio

import android.annotation.SuppressLint
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattServer
import android.bluetooth.BluetoothGattServerCallback
import android.bluetooth.BluetoothGattService
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.le.AdvertiseCallback
import android.bluetooth.le.AdvertiseData
import android.bluetooth.le.AdvertiseSettings
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.Context
import android.os.Build
import android.os.Handler
import android.os.HandlerThread
import android.os.ParcelUuid
import android.os.SystemClock
import android.util.Log
import java.util.UUID
import org.openzone.app.OpenZoneApp
import org.openzone.app.ble.AdvertiseAction
import org.openzone.app.ble.AdvertiseFailure
import org.openzone.app.ble.AdvertisePlanMapper
import org.openzone.app.ble.AdvertiseSpec
import org.openzone.app.ble.AdvertiserController
import org.openzone.app.ble.FilterDescriptor
import org.openzone.app.ble.GattCommand
import org.openzone.app.ble.GattReadQueue
import org.openzone.app.ble.GattReadSession
import org.openzone.app.ble.GattServerResponder
import org.openzone.app.ble.PlatformScanResult
import org.openzone.app.ble.ScanAction
import org.openzone.app.ble.ScanController
import org.openzone.app.ble.ScanFilterPlan
import org.openzone.app.ble.ScanRecordMapper
import org.openzone.app.platform.Permissions
import org.openzone.app.qa.LiveSightings
import org.openzone.app.qa.RadioGlueStats
import org.openzone.app.system.PlatformFactsReader
import org.openzone.core.AdvertisementPlan
import org.openzone.core.BlePlatform
import org.openzone.core.OpenZonePhone
import org.openzone.core.RadioException
import org.openzone.core.ScanFilterSpec

// Permissions are checked before each call (refused() below); the lint cannot see through that.
@SuppressLint("MissingPermission")
class AndroidBlePlatform(private val context: Context) : BlePlatform {
    private val thread = HandlerThread("openzone-ble").apply { start() }
    private val handler = Handler(thread.looper)
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private val adapter get() = manager?.adapter

    @Volatile private var phone: OpenZonePhone? = null
    private var mapper: ScanRecordMapper? = null
    private var gattReads: GattReadQueue? = null

    /** What the phone hears, for the QA screen. */
    val live = LiveSightings()

    private val scans = ScanController()
    private val advertiser = AdvertiserController()
    private var scanFilters: List<ScanFilter> = emptyList()
    private var scanCallback: ScanCallback? = null
    private var advertiseCallback: AdvertiseCallback? = null
    private var gattServer: BluetoothGattServer? = null
    private var servedCharacteristic: UUID? = null
    private var readServiceUuid: UUID? = null
    private var readCharacteristicUuid: UUID? = null
    private var gattClient: BluetoothGatt? = null

    /** Devices of recent scan results by address: a GATT connection to a random address works best with
     *  the BluetoothDevice the scan returned (it carries the address type). */
    private val devices = object : LinkedHashMap<String, BluetoothDevice>(64, 0.75f, true) {
        override fun removeEldestEntry(eldest: MutableMap.MutableEntry<String, BluetoothDevice>?) = size > 256
    }

    /** Called once the phone exists (the phone is created with this platform). */
    fun attach(phone: OpenZonePhone) {
        this.phone = phone
        mapper = ScanRecordMapper(phone, live::add)
        gattReads = GattReadQueue(phone)
    }

    fun stats(): RadioGlueStats = RadioGlueStats(
        scanStartsDeferred = scans.deferred,
        advertiserStarts = advertiser.starts,
        advertising = advertiser.advertising,
        advertisingFailure = advertiser.lastFailure,
        scanResultsFed = mapper?.fed ?: 0L,
        scanResultsDropped = mapper?.dropped ?: 0L,
    )

    // ---- BlePlatform (called on the core's threads: check, then hand over to the BLE thread) ----

    override fun startAdvertising(plan: AdvertisementPlan) {
        refused(Permissions.BLUETOOTH_ADVERTISE)
        val spec = AdvertisePlanMapper.toSpec(plan)
        if (spec.legacyBytes > AdvertiseSpec.LEGACY_MAX_BYTES) {
            throw RadioException.Refused("the advertisement needs ${spec.legacyBytes} bytes, over 31")
        }
        if (adapter?.bluetoothLeAdvertiser == null) {
            throw RadioException.Refused("this phone cannot advertise over Bluetooth LE")
        }
        handler.post {
            readServiceUuid = UUID.fromString(plan.gattServiceUuid)
            readCharacteristicUuid = UUID.fromString(plan.gattCharacteristicUuid)
            openGattServer(plan)
            advertise(advertiser.onStartRequested(spec))
        }
    }

    override fun stopAdvertising() {
        handler.post { advertise(advertiser.onStopRequested()) }
    }

    override fun startScanning(filter: ScanFilterSpec) {
        refused(if (Build.VERSION.SDK_INT >= 31) Permissions.BLUETOOTH_SCAN else Permissions.ACCESS_FINE_LOCATION)
        if (adapter?.bluetoothLeScanner == null) throw RadioException.Refused("Bluetooth LE scanning is unavailable")
        val filters = ScanFilterPlan.filters(filter).map(::androidFilter)
        handler.post {
            scanFilters = filters
            scan(scans.onStartRequested(now()))
        }
    }

    override fun stopScanning() {
        handler.post { scan(scans.onStopRequested()) }
    }

    override fun readGatt(peer: String) {
        refused(Permissions.BLUETOOTH_CONNECT)
        handler.post { beginRead(peer) }
    }

    /** Bluetooth went off or on (the service's receiver): Android drops the GATT server, scans, advertisers
     *  and connections with the radio, so forget them; the engine restarts what it needs when it comes on. */
    fun bluetoothChanged(on: Boolean) {
        if (on) return
        handler.post {
            scanCallback = null
            advertiseCallback = null
            gattClient?.let(::closeClient)
            runCatching { gattServer?.close() }
            gattServer = null
            servedCharacteristic = null
        }
    }

    /** Stops everything (the service is going away). */
    fun shutdown() {
        handler.post {
            scan(scans.onStopRequested())
            advertise(advertiser.onStopRequested())
            gattClient?.let { closeClient(it) }
            runCatching { gattServer?.close() }
            gattServer = null
        }
    }

    private fun refused(permission: String) {
        val a = adapter ?: throw RadioException.Refused("this phone has no Bluetooth")
        if (!a.isEnabled) throw RadioException.Refused("Bluetooth is off")
        val needed = Build.VERSION.SDK_INT >= 31 || !permission.startsWith("android.permission.BLUETOOTH_")
        if (needed && !PlatformFactsReader.granted(context, permission)) {
            throw RadioException.Refused("the permission ${permission.substringAfterLast('.')} is missing")
        }
    }

    private fun now() = SystemClock.elapsedRealtime()

    // ---- Advertising ----

    private fun advertise(actions: List<AdvertiseAction>) {
        val le = adapter?.bluetoothLeAdvertiser ?: return
        for (action in actions) {
            try {
                when (action) {
                    is AdvertiseAction.Stop -> {
                        advertiseCallback?.let { le.stopAdvertising(it) }
                        advertiseCallback = null
                    }
                    is AdvertiseAction.Start -> {
                        val callback = advertiseCallback(action.generation)
                        advertiseCallback = callback
                        le.startAdvertising(settings(action.spec), data(action.spec), callback)
                    }
                    is AdvertiseAction.RetryLater ->
                        handler.postDelayed({ advertise(advertiser.onRetryTimer(action.generation)) }, action.delayMs)
                }
            } catch (e: SecurityException) {
                Log.w(OpenZoneApp.TAG, "advertising refused: ${e.message}")
            }
        }
    }

    private fun advertiseCallback(generation: Int) = object : AdvertiseCallback() {
        override fun onStartSuccess(settingsInEffect: AdvertiseSettings?) {
            handler.post {
                advertiser.onStarted(generation)
                // Clears a failure reported earlier, so the status screen says protection works again.
                phone?.radioFailed(null)
            }
        }

        override fun onStartFailure(errorCode: Int) {
            handler.post {
                // Android answers startAdvertising later, here: tell the phone, so its status shows it.
                phone?.radioFailed("advertising failed: ${AdvertiseFailure.describe(errorCode)}")
                advertise(advertiser.onFailed(generation, errorCode))
            }
        }
    }

    private fun settings(spec: AdvertiseSpec): AdvertiseSettings = AdvertiseSettings.Builder()
        .setAdvertiseMode(spec.mode)
        .setTxPowerLevel(spec.txPowerLevel)
        .setConnectable(spec.connectable)
        .setTimeout(0)
        .build()

    private fun data(spec: AdvertiseSpec): AdvertiseData = AdvertiseData.Builder()
        .setIncludeDeviceName(false)
        .setIncludeTxPowerLevel(false)
        .apply {
            spec.serviceUuids.forEach { addServiceUuid(ParcelUuid(it)) }
            spec.serviceData.forEach { (uuid, bytes) -> addServiceData(ParcelUuid(uuid), bytes) }
            spec.manufacturerData.forEach { (id, bytes) -> addManufacturerData(id, bytes) }
        }
        .build()

    // ---- Scanning ----

    private val scanTimer = Runnable { scan(scans.onTimer(now())) }

    private fun scan(action: ScanAction) {
        try {
            val started = when (action) {
                ScanAction.Start -> startScan()
                ScanAction.Restart -> { stopScan(); startScan() }
                ScanAction.Stop -> { stopScan(); true }
                is ScanAction.StartLater, ScanAction.CancelPending, ScanAction.None -> true
            }
            if (!started) scans.onStartFailed()
        } catch (e: SecurityException) {
            Log.w(OpenZoneApp.TAG, "scanning refused: ${e.message}")
            scans.onStartFailed()
        }
        // One timer: a deferred start, or the restart of a long scan.
        handler.removeCallbacks(scanTimer)
        scans.nextTimerMs()?.let { at -> handler.postDelayed(scanTimer, (at - now()).coerceAtLeast(0)) }
    }

    /** Returns whether the scan was started. */
    private fun startScan(): Boolean {
        val scanner = adapter?.bluetoothLeScanner ?: return false
        // The core duty-cycles (4 s every 4-5 min in the background): inside a window, listen all the time.
        val settings = ScanSettings.Builder()
            .setScanMode(ScanSettings.SCAN_MODE_LOW_LATENCY)
            .setCallbackType(ScanSettings.CALLBACK_TYPE_ALL_MATCHES)
            .setMatchMode(ScanSettings.MATCH_MODE_AGGRESSIVE)
            .setNumOfMatches(ScanSettings.MATCH_NUM_MAX_ADVERTISEMENT)
            .setReportDelay(0)
            .build()
        val callback = object : ScanCallback() {
            override fun onScanResult(callbackType: Int, result: ScanResult) {
                handler.post { onResult(result) }
            }

            override fun onBatchScanResults(results: MutableList<ScanResult>) {
                handler.post { results.forEach(::onResult) }
            }

            override fun onScanFailed(errorCode: Int) {
                Log.w(OpenZoneApp.TAG, "scan failed: $errorCode")
                handler.post {
                    phone?.radioFailed("scanning failed: error $errorCode")
                    scans.onStartFailed()
                }
            }
        }
        scanCallback = callback
        scanner.startScan(scanFilters, settings, callback)
        return true
    }

    private fun stopScan() {
        val callback = scanCallback ?: return
        scanCallback = null
        // Stopping with Bluetooth already off throws on some phones; the scan is gone anyway.
        runCatching { adapter?.bluetoothLeScanner?.stopScan(callback) }
    }

    private fun onResult(result: ScanResult) {
        val record = result.scanRecord
        devices[result.device.address] = result.device
        mapper?.onScanResult(
            PlatformScanResult(
                address = result.device.address,
                bytes = record?.bytes,
                rssi = result.rssi,
                txPowerLevel = record?.txPowerLevel?.takeIf { it != Int.MIN_VALUE },
                radioTxPower = if (Build.VERSION.SDK_INT >= 26) result.txPower else null,
                serviceUuids = record?.serviceUuids?.map { it.uuid.toString() }.orEmpty(),
                manufacturerIds = record?.manufacturerSpecificData?.let { data -> (0 until data.size()).map(data::keyAt) }
                    .orEmpty(),
                timeMs = System.currentTimeMillis(),
            ),
        )
    }

    private fun androidFilter(d: FilterDescriptor): ScanFilter = ScanFilter.Builder().apply {
        d.serviceUuid?.let { setServiceUuid(ParcelUuid.fromString(it)) }
        val id = d.manufacturerId
        val data = d.manufacturerData
        val mask = d.manufacturerDataMask
        when {
            id == null -> {}
            data != null && mask != null -> setManufacturerData(id, data, mask)
            // Empty data: any manufacturer data of that company matches.
            else -> setManufacturerData(id, data ?: ByteArray(0))
        }
    }.build()

    // ---- GATT client: reads of iPhones in the background ----

    private fun beginRead(peer: String) {
        val queue = gattReads ?: return
        val (session, stale) = queue.begin(peer, now())
        gattClient?.let { old -> if (stale.isNotEmpty()) closeClient(old) }
        val device = devices[peer] ?: runCatching { adapter?.getRemoteDevice(peer) }.getOrNull()
        if (device == null) {
            execute(session, null, session.onCallRefused("finding the device"))
            return
        }
        val callback = object : BluetoothGattCallback() {
            override fun onConnectionStateChange(gatt: BluetoothGatt, status: Int, newState: Int) {
                handler.post {
                    execute(session, gatt, session.onConnectionStateChange(status, newState == BluetoothProfile.STATE_CONNECTED))
                }
            }

            override fun onServicesDiscovered(gatt: BluetoothGatt, status: Int) {
                handler.post { execute(session, gatt, session.onServicesDiscovered(status, characteristic(gatt) != null)) }
            }

            // Android 13+.
            override fun onCharacteristicRead(
                gatt: BluetoothGatt,
                characteristic: BluetoothGattCharacteristic,
                value: ByteArray,
                status: Int,
            ) {
                handler.post { execute(session, gatt, session.onCharacteristicRead(status, value)) }
            }

            // Android 12 and older.
            @Deprecated("Replaced on Android 13 by the overload with the value")
            override fun onCharacteristicRead(gatt: BluetoothGatt, characteristic: BluetoothGattCharacteristic, status: Int) {
                @Suppress("DEPRECATION")
                val value = characteristic.value?.copyOf()
                handler.post { execute(session, gatt, session.onCharacteristicRead(status, value)) }
            }
        }
        val gatt = try {
            device.connectGatt(context, false, callback, BluetoothDevice.TRANSPORT_LE)
        } catch (e: SecurityException) {
            null
        }
        if (gatt == null) {
            execute(session, null, session.onCallRefused("connectGatt"))
            return
        }
        gattClient = gatt
        handler.postDelayed({ execute(session, gatt, queue.onDeadline(session)) }, queue.timeoutMs)
    }

    private fun characteristic(gatt: BluetoothGatt): BluetoothGattCharacteristic? {
        val service = readServiceUuid ?: return null
        val characteristic = readCharacteristicUuid ?: return null
        return gatt.getService(service)?.getCharacteristic(characteristic)
    }

    private fun execute(session: GattReadSession, gatt: BluetoothGatt?, commands: List<GattCommand>) {
        for (command in commands) {
            when (command) {
                GattCommand.DiscoverServices ->
                    if (gatt == null || !gatt.discoverServices()) {
                        execute(session, gatt, session.onCallRefused("discoverServices"))
                    }
                GattCommand.ReadCharacteristic -> {
                    val c = gatt?.let(::characteristic)
                    if (gatt == null || c == null || !gatt.readCharacteristic(c)) {
                        execute(session, gatt, session.onCallRefused("readCharacteristic"))
                    }
                }
                GattCommand.Close -> gatt?.let(::closeClient)
            }
        }
    }

    private fun closeClient(gatt: BluetoothGatt) {
        runCatching { gatt.disconnect() }
        runCatching { gatt.close() }
        if (gattClient === gatt) gattClient = null
    }

    // ---- GATT server: peers read this phone's payload ----

    private fun openGattServer(plan: AdvertisementPlan) {
        val characteristicUuid = UUID.fromString(plan.gattCharacteristicUuid)
        if (gattServer != null && servedCharacteristic == characteristicUuid) return
        if (Build.VERSION.SDK_INT >= 31 && !PlatformFactsReader.granted(context, Permissions.BLUETOOTH_CONNECT)) return
        val server = try {
            manager?.openGattServer(context, serverCallback)
        } catch (e: SecurityException) {
            null
        } ?: return
        val service = BluetoothGattService(UUID.fromString(plan.gattServiceUuid), BluetoothGattService.SERVICE_TYPE_PRIMARY)
        service.addCharacteristic(
            BluetoothGattCharacteristic(
                characteristicUuid,
                BluetoothGattCharacteristic.PROPERTY_READ,
                BluetoothGattCharacteristic.PERMISSION_READ,
            ),
        )
        server.addService(service)
        gattServer = server
        servedCharacteristic = characteristicUuid
    }

    private val serverCallback = object : BluetoothGattServerCallback() {
        override fun onCharacteristicReadRequest(
            device: BluetoothDevice,
            requestId: Int,
            offset: Int,
            characteristic: BluetoothGattCharacteristic,
        ) {
            val expected = servedCharacteristic?.toString().orEmpty()
            val response = GattServerResponder.respond(
                characteristic.uuid.toString(), expected, offset, phone?.currentGattValue(),
            )
            runCatching { gattServer?.sendResponse(device, requestId, response.status, offset, response.value) }
        }
    }
}
