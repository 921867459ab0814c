using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Security;

// Runs: ScriptHost <script.ps1> [args...]
// Output objects are shown with their ToString() (or as a property list for objects whose ToString is the type name);
// errors, warnings, verbose and WhatIf text go to stderr/stdout like a console host would show them.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: ScriptHost <script.ps1> [arguments...]");
    return 2;
}

string script = Path.GetFullPath(args[0]);
if (!File.Exists(script))
{
    Console.Error.WriteLine($"ScriptHost: {script} not found");
    return 2;
}

var host = new MiniHost();
using Runspace rs = RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
rs.Open();
using PowerShell ps = PowerShell.Create();
ps.Runspace = rs;
ps.AddCommand(script);
foreach (string a in args.Skip(1))
{
    ps.AddArgument(a);
}

ps.Streams.Error.DataAdded += (_, e) => Console.Error.WriteLine("ERROR: " + ps.Streams.Error[e.Index] + " [" + ps.Streams.Error[e.Index].FullyQualifiedErrorId + "]");
ps.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine("WARNING: " + ps.Streams.Warning[e.Index].Message);
ps.Streams.Verbose.DataAdded += (_, e) => Console.Error.WriteLine("VERBOSE: " + ps.Streams.Verbose[e.Index].Message);
ps.Streams.Information.DataAdded += (_, e) => Console.WriteLine(ps.Streams.Information[e.Index].MessageData);
Console.CancelKeyPress += (_, e) => { e.Cancel = true; ps.BeginStop(null, null); };

var output = new PSDataCollection<PSObject>();
output.DataAdded += (_, e) => Console.WriteLine(Show(output[e.Index]));
try
{
    ps.Invoke(null, output);
}
catch (RuntimeException ex)
{
    Console.Error.WriteLine("ERROR: " + ex.Message + (ex.ErrorRecord is { } er ? " [" + er.FullyQualifiedErrorId + "]" : string.Empty));
    return 1;
}

return ps.HadErrors ? 1 : 0;

static string Show(PSObject? o)
{
    if (o is null)
    {
        return string.Empty;
    }

    string text = o.ToString();
    if (o.BaseObject is string || o.BaseObject.GetType().IsPrimitive || text != o.BaseObject.GetType().FullName)
    {
        return text;
    }

    return string.Join(Environment.NewLine, o.Properties.Select(p =>
    {
        object? v;
        try { v = p.Value; } catch (GetValueException) { v = "?"; }
        return $"{p.Name,-28}: {v}";
    })) + Environment.NewLine;
}

internal sealed class MiniHost : PSHost
{
    private readonly MiniUi _ui = new();

    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override string Name => "CertIntegration.ScriptHost";
    public override PSHostUserInterface UI => _ui;
    public override Version Version => new(0, 1);
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }
}

internal sealed class MiniUi : PSHostUserInterface
{
    public override PSHostRawUserInterface? RawUI => null;
    public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) => throw new NotSupportedException("This host does not prompt.");
    public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) => throw new NotSupportedException("This host does not prompt; use -Confirm:$false.");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw new NotSupportedException("This host does not prompt.");
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException("This host does not prompt.");
    public override string ReadLine() => Console.ReadLine() ?? string.Empty;
    public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("This host does not read secrets.");
    public override void Write(string value) => Console.Write(value);
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Console.Write(value);
    public override void WriteLine(string value) => Console.WriteLine(value);
    public override void WriteErrorLine(string value) => Console.Error.WriteLine(value);
    public override void WriteDebugLine(string message) => Console.Error.WriteLine("DEBUG: " + message);
    public override void WriteProgress(long sourceId, ProgressRecord record) { }
    public override void WriteVerboseLine(string message) => Console.Error.WriteLine("VERBOSE: " + message);
    public override void WriteWarningLine(string message) => Console.Error.WriteLine("WARNING: " + message);
}
