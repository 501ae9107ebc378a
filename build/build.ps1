# Build the one-folder Windows bundle with PyInstaller.
# Never run yet: unverified on Windows/macOS.
#
#   powershell -ExecutionPolicy Bypass -File build\build.ps1
#   -> build\out\dist\dl-app\dl-app.exe
#
# Needs the app and the "build" extra installed in that Python:
#   bash scripts/pip-locked.sh python locks/build.txt   (or: pip install -e ".[build]")
param([string]$Python = "python")
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..")
$Out = Join-Path $Root "build\out"
& $Python (Join-Path $Root "build\icons\make_icons.py") | Out-Null
if ($LASTEXITCODE -ne 0) { throw "make_icons.py failed" }
$env:QT_API = "pyside6"
& $Python -m PyInstaller --noconfirm --clean --log-level WARN `
  --distpath (Join-Path $Out "dist") --workpath (Join-Path $Out "work") `
  (Join-Path $Root "build\dl-app.spec")
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
$Bundle = Join-Path $Out "dist\dl-app"
$Bytes = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum
"bundle: $Bundle\dl-app.exe ({0:N0} MB)" -f ($Bytes / 1MB)
