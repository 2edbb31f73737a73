// The core's ScanFilterSpec as Android ScanFilters. Filters matter more on Android than elsewhere: with the
// screen off, Android delivers results only to scans with at least one filter (unfiltered scans are paused
// until the screen turns on), and filters run in the controller, so the CPU sleeps between matches.
package org.openzone.app.ble

import org.openzone.core.ScanFilterSpec

/** One Android ScanFilter, described without Android types. */
data class FilterDescriptor(
    /** `ScanFilter.Builder.setServiceUuid(ParcelUuid)`. */
    val serviceUuid: String? = null,
    /** `ScanFilter.Builder.setManufacturerData(id, data, mask)`. */
    val manufacturerId: Int? = null,
    val manufacturerData: ByteArray? = null,
    val manufacturerDataMask: ByteArray? = null,
) {
    override fun equals(other: Any?): Boolean = other is FilterDescriptor &&
        serviceUuid == other.serviceUuid && manufacturerId == other.manufacturerId &&
        manufacturerData.contentEqualsNullable(other.manufacturerData) &&
        manufacturerDataMask.contentEqualsNullable(other.manufacturerDataMask)

    override fun hashCode(): Int = (serviceUuid?.hashCode() ?: 0) * 31 + (manufacturerId ?: 0)
}

private fun ByteArray?.contentEqualsNullable(other: ByteArray?) =
    if (this == null) other == null else other != null && contentEquals(other)

/** Builds the filters. */
object ScanFilterPlan {
    /** Apple's company identifier. */
    const val APPLE_COMPANY_ID = 0x004C

    /** The type byte of Apple's "overflow area", what an iPhone app in the background advertises. */
    const val APPLE_OVERFLOW_TYPE: Byte = 0x01

    /** One filter per service UUID and per manufacturer; Apple's only for its overflow advertisements
     *  (Apple phones advertise much else: AirDrop, Handoff, Find My), matched on the type byte. */
    fun filters(spec: ScanFilterSpec): List<FilterDescriptor> =
        spec.serviceUuids.map { FilterDescriptor(serviceUuid = it) } +
            spec.manufacturerIds.map { id ->
                val company = id.toInt()
                if (company == APPLE_COMPANY_ID) {
                    FilterDescriptor(
                        manufacturerId = company,
                        manufacturerData = byteArrayOf(APPLE_OVERFLOW_TYPE),
                        manufacturerDataMask = byteArrayOf(0xFF.toByte()),
                    )
                } else {
                    FilterDescriptor(manufacturerId = company)
                }
            }
}
