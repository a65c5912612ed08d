; Included by electron-builder's NSIS installer (nsis.include in electron-builder.config.mjs).
; electron-builder's NSIS target writes nothing for `protocols` (its Protocol type is macOS-only), so
; the custom URI scheme redirect is registered here: per user, under HKCU\Software\Classes\<scheme>,
; the key Electron's app.setAsDefaultProtocolClient writes on Windows, so the app and the installer
; agree. The scheme comes from identity.json at build time (its rules keep it to letters, digits and
; "+-."), the name from electron-builder's PRODUCT_NAME (PROJECT_DIR and PRODUCT_NAME are
; electron-builder's defines; the test in test/wine/ passes them to makensis itself).
!searchparse /file "${PROJECT_DIR}/identity.json" `"scheme": "` CONNECT_URI_SCHEME `"`

!macro customInstall
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}" "" "URL:${PRODUCT_NAME} sign-in"
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}" "URL Protocol" ""
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}\DefaultIcon" "" "$\"$INSTDIR\${APP_EXECUTABLE_FILENAME}$\",0"
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}\shell\open\command" "" "$\"$INSTDIR\${APP_EXECUTABLE_FILENAME}$\" $\"%1$\""
!macroend

; Also run by an update's uninstall step; the new version's customInstall writes the key again.
!macro customUnInstall
  DeleteRegKey HKCU "Software\Classes\${CONNECT_URI_SCHEME}"
!macroend
