/* A stand-in for Windows' bcryptprimitives.dll under Wine 8.0, which lacks ProcessPrng (the
 * Windows build of @napi-rs/keyring imports it, through Rust's standard library). ProcessPrng
 * fills a buffer from the system's random generator: here RtlGenRandom (advapi32's
 * SystemFunction036), which Wine has. Built by test/wine/run.sh with Debian's MinGW-w64; used
 * only in the Wine prefix of a test run. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG part = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, part)) return FALSE;
    data += part;
    length -= part;
  }
  return TRUE;
}
