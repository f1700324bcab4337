package dev.kiln.cuda;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * JavaCPP pointer objects for raw device addresses. Kiln keeps device addresses as plain {@code long}s (a device
 * pointer must never be dereferenced on the host) and wraps them only at the native call. The wrappers own
 * nothing: closing or collecting them frees no memory.
 */
final class DevicePointers {
    private DevicePointers() {
    }

    /** A {@code void*} with the given address (0 gives NULL). */
    static Pointer at(long address) {
        return new Address(address);
    }

    /** A {@code float*} with the given address, for APIs typed on float such as {@code cublasSgemm}. */
    static FloatPointer floatsAt(long address) {
        return new FloatPointer(new Address(address));
    }

    /** Pointer's address field is protected; a subclass may set it. */
    private static final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }
    }
}
