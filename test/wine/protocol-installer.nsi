; A minimal per-user installer around build/installer.nsh, compiled by Debian's makensis in
; test/wine/run.sh and run silently under Wine by installer.test.ts: the scheme registration the real
; installer includes, without electron-builder (whose NSIS build needs plugins downloaded from
; GitHub, and 32-bit Wine). Defines from the command line: PROJECT_DIR, APP_EXECUTABLE_FILENAME,
; PRODUCT_NAME, OUTFILE.
Unicode true
Target amd64-unicode
!include "${PROJECT_DIR}/build/installer.nsh"
Name "${PRODUCT_NAME}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\connect-desktop-installer-test"
SilentInstall silent
SilentUnInstall silent
Section
  SetOutPath $INSTDIR
  WriteUninstaller "$INSTDIR\Uninstall.exe"
  !insertmacro customInstall
SectionEnd
Section "Uninstall"
  !insertmacro customUnInstall
  Delete "$INSTDIR\Uninstall.exe"
  RMDir $INSTDIR
SectionEnd
