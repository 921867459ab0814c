using System;
using System.Management.Automation;
using System.Threading.Tasks;
using CertIntegration.Core.Cpi;

namespace CertIntegration.Commands;

/// <summary>
/// Base of the Cpi cmdlets: -Connection, or the connection Connect-CpiTenant made last in this session. That one is
/// kept in a private variable of the module's session state (not a static), so runspaces never share it.
/// </summary>
public abstract class CpiCmdlet : CancellableCmdlet
{
    internal const string LastConnectionVariable = "CertIntegrationLastCpiConnection";

    /// <summary>The tenant connection from Connect-CpiTenant; default the one made last in this session.</summary>
    [Parameter]
    [ValidateNotNull]
    public CpiConnection? Connection { get; set; }

    internal CpiConnection ResolvedConnection { get; private set; } = null!;

    protected override void BeginProcessing()
    {
        CpiConnection? connection = Connection ?? LastConnection(this);
        if (connection is null)
        {
            ThrowTerminatingError(ErrorMapping.ToErrorRecord(new CertIntegrationException(ErrorIds.CpiNotConnected, FailureKind.InvalidArgument,
                "There is no tenant connection in this session: run Connect-CpiTenant -ServiceKey <api-plan key> first, or pass -Connection."), null));
        }

        ResolvedConnection = connection!;
    }

    internal static SessionState StateOf(PSCmdlet cmdlet) => cmdlet.MyInvocation.MyCommand.Module?.SessionState ?? cmdlet.SessionState;

    internal static CpiConnection? LastConnection(PSCmdlet cmdlet) => StateOf(cmdlet).PSVariable.GetValue(LastConnectionVariable) switch
    {
        CpiConnection c => c,
        PSObject { BaseObject: CpiConnection c } => c,
        _ => null,
    };

    internal static void SetLastConnection(PSCmdlet cmdlet, CpiConnection connection) =>
        StateOf(cmdlet).PSVariable.Set(new PSVariable(LastConnectionVariable, connection, ScopedItemOptions.Private));

    internal CpiClient Client => ResolvedConnection.Client;

    /// <summary>Runs one API operation on the pipeline thread, writing its verbose text after it.</summary>
    internal T Run<T>(Func<Action<string>, Task<T>> operation)
    {
        var held = new HeldMessages();
        try
        {
            return Await(operation(held.Verbose));
        }
        finally
        {
            held.WriteTo(this);
        }
    }

    internal static string Target(CpiConnection c, string keystore, string alias) => $"{keystore}/{alias} on {c.BaseUrl.GetLeftPart(UriPartial.Authority)}";
}
