# Cross-compiles edgellm for 64-bit ARM Linux with Debian 12's GCC cross compiler, against the arm64
# multiarch libraries (scripts/install-arm64-deps.sh), and runs the binaries it builds under qemu-user so
# that gtest discovery and CTest work as on a native build (scripts/test-arm64.sh).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# qemu's default "max" CPU model has the ARMv8.2 dot-product and SVE/SVE2 extensions, so every kernel
# variant selected by a CPU check also runs. Multiarch puts the arm64 loader at /lib/ld-linux-aarch64.so.1,
# so no -L sysroot is needed.
find_program(EDGELLM_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGELLM_QEMU_AARCH64})

# Libraries and headers: Debian's multiarch layout keeps arm64 libraries in /usr/lib/aarch64-linux-gnu
# beside the native ones, so search the host root but never run host programs found there as target ones.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
