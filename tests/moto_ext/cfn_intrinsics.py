"""CloudFormation template semantics, independent of any service: parameters, conditions,
intrinsic functions, the dependency graph and the checks CloudFormation makes before it creates
anything. Used by cloudformation_ext (the API and the provisioner); knows nothing of moto.

Sources: CloudFormation User Guide, "Intrinsic function reference", "Pseudo parameters",
"Conditions", "Parameters" (awsdocs/aws-cloudformation-user-guide). Error texts are AWS's where
known; README.md (CloudFormation) lists the ones that could not be confirmed.
"""
import base64
import json
import re

PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::Partition",
          "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}
NO_VALUE = object()         # AWS::NoValue: the property (or list item) disappears
SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class TemplateError(Exception):
    """A template or parameter error CloudFormation reports as ValidationError at the API call."""


# --------------------------------------------------------------------------- parameters
def parameter_values(declared, given, previous=None):
    """Effective parameter values (strings; lists for List types) from the template's Parameters,
    the call's [{ParameterKey, ParameterValue | UsePreviousValue}] and, on update, the previous
    values. Raises TemplateError with CloudFormation's messages."""
    previous, values = previous or {}, {}
    unknown = [p["ParameterKey"] for p in given if p["ParameterKey"] not in declared]
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    for p in given:
        key = p["ParameterKey"]
        if str(p.get("UsePreviousValue", "")).lower() == "true":
            if key not in previous:
                raise TemplateError(f"Invalid input for parameter key {key}. Need to specify either usePreviousValue as true or a value for the parameter")
            # Kept as CloudFormation keeps it: ParameterValue is a string, a list parameter's
            # comma-delimited (CloudFormation API Reference, Parameter data type).
            values[key] = _scalar(previous[key])
        elif "ParameterValue" in p:
            values[key] = p["ParameterValue"]
    for key, spec in declared.items():
        if key not in values and "Default" in spec:
            values[key] = _scalar(spec["Default"])
    missing = [k for k in declared if k not in values]
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    return {k: _check_parameter(k, declared[k], v) for k, v in values.items()}


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(_scalar(x) for x in v)
    return str(v)


def _check_parameter(key, spec, raw):
    """Validate one value against Type, AllowedValues, AllowedPattern, lengths and bounds."""
    ptype = spec.get("Type", "String")
    is_list = ptype.startswith("List<") or ptype == "CommaDelimitedList"
    items = [x.strip() for x in raw.split(",")] if is_list and raw != "" else ([] if is_list else [raw])

    def fail(default_msg):
        cd = spec.get("ConstraintDescription")
        raise TemplateError(f"Parameter {key} failed to satisfy constraint: {cd}" if cd else default_msg)
    for v in items:
        if ptype in ("Number", "List<Number>"):
            try:
                num = float(v)
            except ValueError:
                fail(f"Parameter '{key}' must be a number")
            if "MinValue" in spec and num < float(spec["MinValue"]):
                fail(f"Parameter '{key}' must be a number not less than {spec['MinValue']}")
            if "MaxValue" in spec and num > float(spec["MaxValue"]):
                fail(f"Parameter '{key}' must be a number not greater than {spec['MaxValue']}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and v not in [_scalar(a) for a in allowed]:
            fail(f"Parameter '{key}' must be one of AllowedValues")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], v):
            fail(f"Parameter '{key}' must match pattern {spec['AllowedPattern']}")
        if "MinLength" in spec and len(v) < int(spec["MinLength"]):
            fail(f"Parameter '{key}' must contain at least {spec['MinLength']} characters")
        if "MaxLength" in spec and len(v) > int(spec["MaxLength"]):
            fail(f"Parameter '{key}' must contain at most {spec['MaxLength']} characters")
    return items if is_list else raw


# --------------------------------------------------------------------------- references
def split_getatt(v):
    """Both Fn::GetAtt forms: [LogicalId, Attr] and "LogicalId.Attr" (the attribute may hold dots)."""
    if isinstance(v, str) and "." in v:
        lid, attr = v.split(".", 1)
        return lid, attr
    if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], str):
        return v[0], v[1]
    raise TemplateError("Template error: every Fn::GetAtt object requires two non-empty parameters")


def sub_parts(arg):
    """(text, variables map) of both Fn::Sub forms."""
    if isinstance(arg, str):
        return arg, {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        return arg[0], arg[1]
    raise TemplateError("Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string")


def references(node, conditions=None):
    """[(kind, name, attr)] that `node` refers to: kind "Ref" or "GetAtt". With `conditions`
    (name -> bool), only the Fn::If branches taken are followed, as CloudFormation does once
    conditions are evaluated."""
    out = []

    def walk(n):
        if isinstance(n, list):
            for x in n:
                walk(x)
        elif isinstance(n, dict):
            if len(n) == 1:
                (fn, arg), = n.items()
                if fn == "Ref" and isinstance(arg, str):
                    out.append(("Ref", arg, None))
                    return
                if fn == "Fn::GetAtt":
                    lid, attr = split_getatt(arg)
                    out.append(("GetAtt", lid, attr))
                    return
                if fn == "Fn::Sub":
                    text, variables = sub_parts(arg)
                    for var in SUB_VAR.findall(text):
                        if var.startswith("!") or var in variables:
                            continue
                        out.append(("GetAtt", *var.split(".", 1)) if "." in var else ("Ref", var, None))
                    walk(list(variables.values()))
                    return
                if fn == "Fn::If" and conditions is not None and isinstance(arg, list) and len(arg) == 3:
                    walk(arg[1] if conditions.get(arg[0]) else arg[2])
                    return
            for x in n.values():
                walk(x)
    walk(node)
    return out


def depends_on(resource):
    d = resource.get("DependsOn", [])
    return [d] if isinstance(d, str) else list(d)


# --------------------------------------------------------------------------- conditions
def evaluate_conditions(template, ctx):
    """name -> bool for every entry of Conditions (Fn::Equals/Not/And/Or/Condition)."""
    declared, done = template.get("Conditions") or {}, {}

    def cond(name, stack=()):
        if name in done:
            return done[name]
        if name not in declared:
            raise TemplateError(f"Template format error: Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template")
        if name in stack:
            raise TemplateError(f"Template error: circular condition dependency between conditions: [{', '.join(stack)}]")
        done[name] = value(declared[name], stack + (name,))
        return done[name]

    def value(n, stack):
        if isinstance(n, bool):
            return n
        if isinstance(n, str) and n.lower() in ("true", "false"):
            return n.lower() == "true"
        if isinstance(n, dict) and len(n) == 1:
            (fn, arg), = n.items()
            if fn == "Condition":
                return cond(arg, stack)
            if fn == "Fn::Equals":
                a, b = (resolve(x, ctx) for x in arg)
                return _scalar(a) == _scalar(b)
            if fn == "Fn::Not":
                return not value(arg[0], stack)
            if fn == "Fn::And":
                return all(value(x, stack) for x in arg)
            if fn == "Fn::Or":
                return any(value(x, stack) for x in arg)
        raise TemplateError(f"Template error: unsupported structure in Conditions: {json.dumps(n)}")
    for name in declared:
        cond(name)
    return done


# --------------------------------------------------------------------------- resolution
def resolve(node, ctx):
    """The value of `node` with every intrinsic function evaluated. `ctx` supplies
    params (dict), pseudo(name), ref(logical_id), getatt(logical_id, attr), conditions (dict),
    mappings (dict), azs(region) and import_value(name). AWS::NoValue removes the item."""
    if isinstance(node, list):
        return [v for v in (resolve(x, ctx) for x in node) if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (fn, arg), = node.items()
        impl = FUNCTIONS.get(fn)
        if impl:
            return impl(arg, ctx)
    out = {}
    for k, v in node.items():
        r = resolve(v, ctx)
        if r is not NO_VALUE:
            out[k] = r
    return out


def _ref(name, ctx):
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in PSEUDO:
        return ctx.pseudo(name)
    if name in ctx.params:
        return ctx.params[name]
    return ctx.ref(name)


def stringify(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, dict)):
        raise TemplateError("Template error: every value in Fn::Join and Fn::Sub must resolve to a string")
    return str(v)


def _sub(arg, ctx):
    text, variables = sub_parts(arg)
    local = {k: resolve(v, ctx) for k, v in variables.items()}

    def one(m):
        var = m.group(1)
        if var.startswith("!"):
            return "${" + var[1:] + "}"          # ${!Literal} stays as ${Literal}
        if var in local:
            return stringify(local[var])
        if "." in var and var.split(".", 1)[0] not in ctx.params and var not in PSEUDO:
            return stringify(ctx.getatt(*var.split(".", 1)))
        return stringify(_ref(var, ctx))
    return SUB_VAR.sub(one, text)


def _join(arg, ctx):
    delim, items = arg[0], resolve(arg[1], ctx)
    return delim.join(stringify(x) for x in items)


def _select(arg, ctx):
    idx, items = int(resolve(arg[0], ctx)), resolve(arg[1], ctx)
    if not 0 <= idx < len(items):
        raise TemplateError("Template error: Fn::Select cannot select nonexistent value at index " + str(idx))
    return items[idx]


def _find_in_map(arg, ctx):
    m, k1, k2 = (resolve(x, ctx) for x in arg[:3])
    try:
        return ctx.mappings[m][k1][k2]
    except KeyError:
        raise TemplateError(f"Template error: Unable to get mapping for {m}::{k1}::{k2}") from None


def _if(arg, ctx):
    name, yes, no = arg
    if name not in ctx.conditions:
        raise TemplateError(f"Template error: unresolved condition dependency {name} in Fn::If")
    return resolve(yes if ctx.conditions[name] else no, ctx)


def _unsupported(fn):
    def fail(arg, ctx):
        raise TemplateError(f"Template error: {fn} is not supported by the emulator's CloudFormation")
    return fail


FUNCTIONS = {
    "Ref": lambda a, c: _ref(a, c),
    "Fn::GetAtt": lambda a, c: c.getatt(*split_getatt(a)),
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": lambda a, c: resolve(a[1], c).split(a[0]),
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::Base64": lambda a, c: base64.b64encode(stringify(resolve(a, c)).encode()).decode(),
    "Fn::GetAZs": lambda a, c: c.azs(resolve(a, c) or c.pseudo("AWS::Region")),
    "Fn::ImportValue": lambda a, c: c.import_value(resolve(a, c)),
    "Fn::Cidr": _unsupported("Fn::Cidr"),
    "Fn::Transform": _unsupported("Fn::Transform"),
}


# --------------------------------------------------------------------------- checks and order
def check_template(template, attributes_of):
    """CloudFormation's checks before anything is created, on the processed template (all
    resources, conditions not yet applied). `attributes_of(type)` gives a type's GetAtt
    attributes, or None when any attribute is accepted."""
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("Template format error: At least one Resources member must be defined.")
    for lid, r in resources.items():
        if not isinstance(r, dict) or not isinstance(r.get("Type"), str):
            raise TemplateError(f"Template format error: [/Resources/{lid}] Every Resources object must contain a Type member.")
    names = set(template.get("Parameters") or {}) | PSEUDO
    # Structure first ("Template format error"), then what resolution would meet ("Template error").
    for block in ("Resources", "Outputs"):
        bodies = (template.get(block) or {}).values()
        unresolved = [n for body in bodies for kind, n, _ in references(body)
                      if kind == "Ref" and n not in names and n not in resources]
        unresolved += [d for body in bodies if block == "Resources" for d in depends_on(body) if d not in resources]
        if unresolved:
            raise TemplateError(f"Template format error: Unresolved resource dependencies [{', '.join(dict.fromkeys(unresolved))}] in the {block} block of the template")
    for block in ("Resources", "Outputs"):
        for body in (template.get(block) or {}).values():
            _check_getatts(body, resources, attributes_of)
    conditions = template.get("Conditions") or {}
    for block in ("Resources", "Outputs"):
        for lid, body in (template.get(block) or {}).items():
            if "Condition" in body and body["Condition"] not in conditions:
                raise TemplateError(f"Template format error: Unresolved dependencies [{body['Condition']}]. Cannot reference resources in the Conditions block of the template")


def _check_getatts(body, resources, attributes_of):
    for kind, name, attr in references(body):
        if kind != "GetAtt":
            continue
        if name not in resources:
            raise TemplateError(f"Template error: instance of Fn::GetAtt references undefined resource {name}")
        allowed = attributes_of(resources[name]["Type"])
        if allowed is not None and attr not in allowed:
            raise TemplateError(f"Template error: resource {name} does not support attribute type {attr} in Fn::GetAtt")


def active_graph(template, conditions):
    """(active resources {lid: body}, skipped lids, deps {lid: set}) once conditions apply.
    A reference to a resource whose condition is false is an unresolved dependency."""
    resources = template["Resources"]
    active = {lid: r for lid, r in resources.items() if conditions.get(r.get("Condition"), True)}
    skipped = [lid for lid in resources if lid not in active]
    deps = {}
    for lid, r in active.items():
        body = {k: v for k, v in r.items() if k in ("Properties", "UpdatePolicy", "Metadata")}
        found = {name for kind, name, _ in references(body, conditions) if name in resources}
        found |= set(depends_on(r))
        gone = sorted(found - set(active))
        if gone:
            raise TemplateError(f"Template format error: Unresolved resource dependencies [{', '.join(gone)}] in the Resources block of the template")
        deps[lid] = found
    for key, out in (template.get("Outputs") or {}).items():
        if conditions.get(out.get("Condition"), True):
            gone = sorted({n for _, n, _ in references(out.get("Value"), conditions)
                           if n in resources and n not in active})
            if gone:
                raise TemplateError(f"Template format error: Unresolved resource dependencies [{', '.join(gone)}] in the Outputs block of the template")
    return active, skipped, deps


def creation_order(active, deps, deferred=()):
    """Logical ids so that every resource follows what it depends on; among ready resources,
    template order, except that `deferred` ones wait until nothing else is ready (CloudFormation
    runs independent resources in parallel, so a long CodeDeploy alias update never holds the
    others back). Raises CloudFormation's circular-dependency error."""
    index = {lid: i for i, lid in enumerate(active)}
    pending, order = {lid: set(d) for lid, d in deps.items()}, []
    while pending:
        ready = [lid for lid, d in pending.items() if not d]
        if not ready:
            raise TemplateError(f"Circular dependency between resources: [{', '.join(sorted(pending, key=index.get))}]")
        lid = min(ready, key=lambda x: (x in deferred, index[x]))
        order.append(lid)
        del pending[lid]
        for d in pending.values():
            d.discard(lid)
    return order
