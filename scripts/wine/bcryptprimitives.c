/* Debian bookworm's Wine 8.0 has no bcryptprimitives.dll, and Rust's std (since 1.78) imports
 * ProcessPrng from it for its random keys, so no Rust program starts there ("c0000135").
 * Windows 10 and later ship this DLL; this stand-in exists only in the test Wine prefix
 * (scripts/wine-run.sh builds it) and asks Wine's real bcrypt.dll for the same bytes. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += chunk;
    len -= chunk;
  }
  return TRUE;
}
