Function AUDIT_CARC(code, Optional part)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_CARC = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CARC", Array(code, part), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_CARC = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CARC", Array(code, part))
        Exit Function
    #End If
failed:
    AUDIT_CARC = Err.Description
End Function

Function AUDIT_CHECK_LINE(cpt, Optional modifiers, Optional diagnoses, Optional units, Optional payer, Optional headers, Optional values)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_CHECK_LINE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CHECK_LINE", Array(cpt, modifiers, diagnoses, units, payer, headers, values), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_CHECK_LINE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CHECK_LINE", Array(cpt, modifiers, diagnoses, units, payer, headers, values))
        Exit Function
    #End If
failed:
    AUDIT_CHECK_LINE = Err.Description
End Function

Function AUDIT_CLEAN_RATE(statuses, Optional frequency, Optional providers, Optional provider)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_CLEAN_RATE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CLEAN_RATE", Array(statuses, frequency, providers, provider), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_CLEAN_RATE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CLEAN_RATE", Array(statuses, frequency, providers, provider))
        Exit Function
    #End If
failed:
    AUDIT_CLEAN_RATE = Err.Description
End Function

Function AUDIT_CPM_CODES(minutes, Optional code)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_CPM_CODES = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CPM_CODES", Array(minutes, code), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_CPM_CODES = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_CPM_CODES", Array(minutes, code))
        Exit Function
    #End If
failed:
    AUDIT_CPM_CODES = Err.Description
End Function

Function AUDIT_DEADLINE(payer, dos, remit_date, kind, Optional config)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_DEADLINE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_DEADLINE", Array(payer, dos, remit_date, kind, config), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_DEADLINE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_DEADLINE", Array(payer, dos, remit_date, kind, config))
        Exit Function
    #End If
failed:
    AUDIT_DEADLINE = Err.Description
End Function

Function AUDIT_DENIAL_RATE(statuses, Optional charges, Optional providers, Optional provider)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_DENIAL_RATE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_DENIAL_RATE", Array(statuses, charges, providers, provider), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_DENIAL_RATE = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_DENIAL_RATE", Array(statuses, charges, providers, provider))
        Exit Function
    #End If
failed:
    AUDIT_DENIAL_RATE = Err.Description
End Function

Function AUDIT_FAMILY(cpt)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_FAMILY = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_FAMILY", Array(cpt), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_FAMILY = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_FAMILY", Array(cpt))
        Exit Function
    #End If
failed:
    AUDIT_FAMILY = Err.Description
End Function

Function AUDIT_FINDINGS(table, Optional mapping, Optional config)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_FINDINGS = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_FINDINGS", Array(table, mapping, config), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_FINDINGS = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_FINDINGS", Array(table, mapping, config))
        Exit Function
    #End If
failed:
    AUDIT_FINDINGS = Err.Description
End Function

Function AUDIT_TPI_MIX(codes, Optional providers, Optional provider)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        AUDIT_TPI_MIX = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_TPI_MIX", Array(codes, providers, provider), ThisWorkbook, Application.Caller)
        Exit Function
    #Else
        AUDIT_TPI_MIX = XLPy.CallUDF("auditkit.excel.udfs", "AUDIT_TPI_MIX", Array(codes, providers, provider))
        Exit Function
    #End If
failed:
    AUDIT_TPI_MIX = Err.Description
End Function

