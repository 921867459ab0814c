using System.Management.Automation;

namespace ImportFloor;

/// <summary>The one cmdlet of the floor module.</summary>
[Cmdlet(VerbsCommon.Get, "ImportFloor")]
[OutputType(typeof(int))]
public sealed class GetImportFloorCommand : PSCmdlet
{
    /// <summary>Writes 1.</summary>
    protected override void ProcessRecord() => WriteObject(1);
}
