; Inno Setup script: the Windows installer for the one-folder bundle.
; Never run yet: unverified on Windows/macOS.
;
;   build\build.ps1
;   iscc /DAppVersion=0.1.0 installer\windows\digital-life.iss
;   -> build\out\DigitalLife-Setup-0.1.0.exe
;
; Installs per user (no admin prompt) into %LOCALAPPDATA%\Programs\Digital Life, with a
; Start menu entry and an optional desktop icon. Start on login is a setting in the
; app (it writes HKCU\...\Run itself); the uninstaller removes that value too.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define Bundle "..\..\build\out\dist\dl-app"

[Setup]
AppId={{6F1D2A4E-8B0C-4C55-9B8E-D1A7C0F3E2B1}
AppName=Digital Life
AppVerName=Digital Life {#AppVersion}
AppVersion={#AppVersion}
AppPublisher=Digital Life
DefaultDirName={autopf}\Digital Life
DefaultGroupName=Digital Life
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\build\out
OutputBaseFilename=DigitalLife-Setup-{#AppVersion}
SetupIconFile=..\..\build\icons\icon.ico
UninstallDisplayIcon={app}\dl-app.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "zh"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"

[CustomMessages]
en.DesktopIcon=Create a desktop icon
zh.DesktopIcon=创建桌面快捷方式
en.AppTitle=Digital Life
zh.AppTitle=数字生命
en.LaunchApp=Start Digital Life
zh.LaunchApp=启动数字生命

[Tasks]
Name: "desktopicon"; Description: "{cm:DesktopIcon}"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{cm:AppTitle}"; Filename: "{app}\dl-app.exe"
Name: "{autodesktop}\{cm:AppTitle}"; Filename: "{app}\dl-app.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\dl-app.exe"; Description: "{cm:LaunchApp}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{cmd}"; Parameters: "/C taskkill /IM dl-app.exe /F"; Flags: runhidden; RunOnceId: "StopApp"

[Registry]
; Only removes the start-on-login value the app may have written.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "DigitalLife"; Flags: uninsdeletevalue dontcreatekey
