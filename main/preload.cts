// Preload (sandboxed, so CommonJS and only `electron` can be required): exposes the one typed API,
// `window.connect`, and nothing else. No ipcRenderer, no raw callbacks reach the page.
import { contextBridge, ipcRenderer } from 'electron';
import type { AppEvent, CHANNELS as Channels, ConnectApi, EVENT_CHANNEL as EventChannel, SettingsInput } from '../src/app/app-api.js';

// A sandboxed preload cannot load src/app-api.js at run time; the types keep these names in step.
const EVENT_CHANNEL: typeof EventChannel = 'connect:event';
const CHANNELS: typeof Channels = {
  state: 'connect:state',
  signIn: 'connect:sign-in',
  signInOnAnotherDevice: 'connect:sign-in-device',
  submitCode: 'connect:submit-code',
  cancelSignIn: 'connect:cancel-sign-in',
  openBrowserAgain: 'connect:open-browser-again',
  reloadUserInfo: 'connect:reload-user-info',
  settings: 'connect:settings',
  checkSettings: 'connect:check-settings',
  saveSettings: 'connect:save-settings',
  useDemoProvider: 'connect:use-demo-provider',
  registerApp: 'connect:register-app',
  startOver: 'connect:start-over',
  refresh: 'connect:refresh',
  signOut: 'connect:sign-out',
};

const api: ConnectApi = {
  state: () => ipcRenderer.invoke(CHANNELS.state),
  signIn: () => ipcRenderer.invoke(CHANNELS.signIn),
  signInOnAnotherDevice: () => ipcRenderer.invoke(CHANNELS.signInOnAnotherDevice),
  submitCode: (code: string) => ipcRenderer.invoke(CHANNELS.submitCode, String(code)),
  cancelSignIn: () => ipcRenderer.invoke(CHANNELS.cancelSignIn),
  openBrowserAgain: () => ipcRenderer.invoke(CHANNELS.openBrowserAgain),
  reloadUserInfo: () => ipcRenderer.invoke(CHANNELS.reloadUserInfo),
  settings: () => ipcRenderer.invoke(CHANNELS.settings),
  checkSettings: (input: SettingsInput) => ipcRenderer.invoke(CHANNELS.checkSettings, input),
  saveSettings: (input: SettingsInput) => ipcRenderer.invoke(CHANNELS.saveSettings, input),
  useDemoProvider: () => ipcRenderer.invoke(CHANNELS.useDemoProvider),
  registerApp: (input: SettingsInput) => ipcRenderer.invoke(CHANNELS.registerApp, input),
  startOver: () => ipcRenderer.invoke(CHANNELS.startOver),
  refresh: () => ipcRenderer.invoke(CHANNELS.refresh),
  signOut: (everywhere: boolean) => ipcRenderer.invoke(CHANNELS.signOut, everywhere === true),
  // The page gets the event itself, never the IPC event object (which would reach ipcRenderer).
  onEvent: (listener: (event: AppEvent) => void) => {
    ipcRenderer.on(EVENT_CHANNEL, (_event, appEvent: AppEvent) => listener(appEvent));
  },
};

contextBridge.exposeInMainWorld('connect', api);
