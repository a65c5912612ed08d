; Included by electron-builder's NSIS installer (nsis.include in electron-builder.config.mjs).
; electron-builder's NSIS target writes nothing for `protocols` (its Protocol type is macOS-only), so
; the custom URI scheme redirect is registered here: per user, under HKCU\Software\Classes\<scheme>,
; the key Electron's app.setAsDefaultProtocolClient writes on Windows, so the app and the installer
; agree. The scheme and the name come from identity.json at build time (PROJECT_DIR is
; electron-builder's define; the test in test/wine/ passes it to makensis itself).
!searchparse /file "${PROJECT_DIR}/identity.json" `"scheme": "` CONNECT_URI_SCHEME `"`
!searchparse /file "${PROJECT_DIR}/identity.json" `"productName": "` CONNECT_PRODUCT_NAME `"`

!macro customInstall
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}" "" "URL:${CONNECT_PRODUCT_NAME} sign-in"
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}" "URL Protocol" ""
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}\DefaultIcon" "" "$\"$INSTDIR\${APP_EXECUTABLE_FILENAME}$\",0"
  WriteRegStr HKCU "Software\Classes\${CONNECT_URI_SCHEME}\shell\open\command" "" "$\"$INSTDIR\${APP_EXECUTABLE_FILENAME}$\" $\"%1$\""
!macroend

; Also run by an update's uninstall step; the new version's customInstall writes the key again.
!macro customUnInstall
  DeleteRegKey HKCU "Software\Classes\${CONNECT_URI_SCHEME}"
!macroend
