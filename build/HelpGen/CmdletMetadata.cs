using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace HelpGen;

/// <summary>How a parameter takes part in one parameter set, from its [Parameter] attribute.</summary>
public sealed record ParameterSetUse(string Set, bool Mandatory, int? Position, bool ByValue, bool ByPropertyName);

public sealed record CmdletParameter(string Name, string Type, List<string> Aliases, bool Wildcards, List<ParameterSetUse> Sets);

public sealed record CmdletInfo(string Name, bool SupportsShouldProcess, string? DefaultSet, List<CmdletParameter> Parameters, string? HelpUri = null);

/// <summary>
/// Reads the cmdlets of the built module assembly without loading it (System.Reflection.Metadata), so the tool
/// needs neither PowerShell nor the module's dependencies.
/// </summary>
public static class CmdletMetadata
{
    public const string AllSets = "__AllParameterSets";
    private const string Sma = "System.Management.Automation.";

    public static Dictionary<string, CmdletInfo> Read(string assemblyPath)
    {
        using FileStream fs = File.OpenRead(assemblyPath);
        using var pe = new PEReader(fs);
        MetadataReader md = pe.GetMetadataReader();
        var result = new Dictionary<string, CmdletInfo>(StringComparer.OrdinalIgnoreCase);
        var attrTypes = new AttributeTypeProvider();
        var sigTypes = new SignatureTypeProvider(md);

        foreach (TypeDefinitionHandle th in md.TypeDefinitions)
        {
            TypeDefinition td = md.GetTypeDefinition(th);
            if ((td.Attributes & TypeAttributes.Abstract) != 0)
            {
                continue;
            }

            foreach (CustomAttributeHandle ch in td.GetCustomAttributes())
            {
                CustomAttribute ca = md.GetCustomAttribute(ch);
                if (AttributeName(md, ca) != Sma + "CmdletAttribute")
                {
                    continue;
                }

                CustomAttributeValue<string> v = ca.DecodeValue(attrTypes);
                string name = $"{v.FixedArguments[0].Value}-{v.FixedArguments[1].Value}";
                bool shouldProcess = Named(v, "SupportsShouldProcess") is true;
                string? defaultSet = Named(v, "DefaultParameterSetName") as string;
                string? helpUri = Named(v, "HelpUri") as string;
                var parameters = new List<CmdletParameter>();
                foreach (TypeDefinition t in WithBaseTypes(md, td))
                {
                    foreach (PropertyDefinitionHandle ph in t.GetProperties())
                    {
                        PropertyDefinition pd = md.GetPropertyDefinition(ph);
                        if (ReadParameter(md, pd, attrTypes, sigTypes) is { } p && !parameters.Any(x => x.Name == p.Name))
                        {
                            parameters.Add(p);
                        }
                    }
                }

                result[name] = new CmdletInfo(name, shouldProcess, defaultSet, parameters, helpUri);
            }
        }

        return result;
    }

    private static IEnumerable<TypeDefinition> WithBaseTypes(MetadataReader md, TypeDefinition td)
    {
        TypeDefinition? cur = td;
        for (int depth = 0; cur is { } c && depth < 16; depth++)
        {
            yield return c;
            cur = c.BaseType.Kind == HandleKind.TypeDefinition ? md.GetTypeDefinition((TypeDefinitionHandle)c.BaseType) : null;
        }
    }

    private static CmdletParameter? ReadParameter(MetadataReader md, PropertyDefinition pd, AttributeTypeProvider attrTypes, SignatureTypeProvider sigTypes)
    {
        var sets = new List<ParameterSetUse>();
        var aliases = new List<string>();
        bool wildcards = false;
        foreach (CustomAttributeHandle ch in pd.GetCustomAttributes())
        {
            CustomAttribute ca = md.GetCustomAttribute(ch);
            switch (AttributeName(md, ca))
            {
                case Sma + "ParameterAttribute":
                {
                    CustomAttributeValue<string> v = ca.DecodeValue(attrTypes);
                    int position = Named(v, "Position") is int pos ? pos : int.MinValue;
                    sets.Add(new ParameterSetUse(
                        Named(v, "ParameterSetName") as string ?? AllSets,
                        Named(v, "Mandatory") is true,
                        position == int.MinValue ? null : position,
                        Named(v, "ValueFromPipeline") is true,
                        Named(v, "ValueFromPipelineByPropertyName") is true));
                    break;
                }

                case Sma + "AliasAttribute":
                {
                    CustomAttributeValue<string> v = ca.DecodeValue(attrTypes);
                    foreach (var arg in v.FixedArguments)
                    {
                        if (arg.Value is ImmutableArray<CustomAttributeTypedArgument<string>> arr)
                        {
                            aliases.AddRange(arr.Select(a => a.Value as string).OfType<string>());
                        }
                        else if (arg.Value is string s)
                        {
                            aliases.Add(s);
                        }
                    }

                    break;
                }

                case Sma + "SupportsWildcardsAttribute":
                    wildcards = true;
                    break;
            }
        }

        if (sets.Count == 0)
        {
            return null;
        }

        string type = pd.DecodeSignature(sigTypes, null).ReturnType;
        return new CmdletParameter(md.GetString(pd.Name), type, aliases, wildcards, sets);
    }

    private static object? Named(CustomAttributeValue<string> v, string name) =>
        v.NamedArguments.Where(a => a.Name == name).Select(a => a.Value).FirstOrDefault();

    private static string AttributeName(MetadataReader md, CustomAttribute ca)
    {
        EntityHandle typeHandle = ca.Constructor.Kind switch
        {
            HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)ca.Constructor).Parent,
            HandleKind.MethodDefinition => md.GetMethodDefinition((MethodDefinitionHandle)ca.Constructor).GetDeclaringType(),
            _ => default,
        };
        return typeHandle.Kind switch
        {
            HandleKind.TypeReference => FullName(md, md.GetTypeReference((TypeReferenceHandle)typeHandle)),
            HandleKind.TypeDefinition => md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)typeHandle).Namespace) + "." + md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)typeHandle).Name),
            _ => string.Empty,
        };
    }

    private static string FullName(MetadataReader md, TypeReference tr) => md.GetString(tr.Namespace) + "." + md.GetString(tr.Name);

    /// <summary>Attribute arguments: types by name; every enum taken as int (ConfirmImpact, etc.).</summary>
    private sealed class AttributeTypeProvider : ICustomAttributeTypeProvider<string>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();

        public string GetSystemType() => "System.Type";

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeDefinition(handle).Name);

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeReference(handle).Name);

        public string GetTypeFromSerializedName(string name) => name;

        public PrimitiveTypeCode GetUnderlyingEnumType(string type) => PrimitiveTypeCode.Int32;

        public bool IsSystemType(string type) => type == "System.Type" || type == "Type";
    }

    /// <summary>Property types as the short names help shows (String[], SecureString, Nullable T as T).</summary>
    private sealed class SignatureTypeProvider : ISignatureTypeProvider<string, object?>
    {
        private readonly MetadataReader _md;

        public SignatureTypeProvider(MetadataReader md) => _md = md;

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";

        public string GetByReferenceType(string elementType) => elementType;

        public string GetPointerType(string elementType) => elementType + "*";

        public string GetPinnedType(string elementType) => elementType;

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        public string GetFunctionPointerType(MethodSignature<string> signature) => "IntPtr";

        public string GetGenericMethodParameter(object? genericContext, int index) => "T" + index;

        public string GetGenericTypeParameter(object? genericContext, int index) => "T" + index;

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
            genericType.StartsWith("Nullable`", StringComparison.Ordinal) && typeArguments.Length == 1
                ? typeArguments[0]
                : genericType.Split('`')[0] + "[" + string.Join(",", typeArguments) + "]";

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeDefinition(handle).Name);

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeReference(handle).Name);

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
    }
}
