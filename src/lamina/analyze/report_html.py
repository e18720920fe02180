"""A self-contained HTML report: inline CSS, inline script, a chart drawn as SVG, no network.

The page embeds the JSON report (the same document ``--format json`` prints,
with every list cut to ``MAX_LIST`` entries and the full counts kept beside
the per-layer lists) and draws from it: a bar
per layer split into bytes that reach the final image and wasted bytes, the
summary, the findings with their fixes, and each layer's changes.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Final

from lamina.analyze.analysis import Analysis
from lamina.analyze.findings import Finding
from lamina.analyze.report_json import report

MAX_LIST: Final = 500

_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
 background:#f6f7f9;color:#1d232b}
header{background:#1d2a3a;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:20px} header .id{opacity:.7;font-family:monospace}
main{padding:20px 28px;max-width:1200px}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:170px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .v{font-size:22px;font-weight:600} .card .k{color:#5b6673;font-size:12px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin-bottom:18px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:16px;margin:0 0 10px}
table{border-collapse:collapse;width:100%} td,th{padding:4px 8px;text-align:left;
 border-bottom:1px solid #eef0f3;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-high{color:#b3261e;font-weight:700}.sev-medium{color:#a15c00;font-weight:600}
.sev-low{color:#2a6fb0}.fix{color:#216e39}
code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:12px}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;
 margin:0 4px -2px 12px}
details summary{cursor:pointer} .add{color:#216e39}.mod{color:#a15c00}.del{color:#b3261e}
"""

_JS: Final = r"""
(function(){
window.onerror=function(m){document.body.setAttribute('data-error',String(m));};
var data=JSON.parse(document.getElementById('report-data').textContent);
var MAX=data.maxList;
function fmt(n){var u=['B','kB','MB','GB','TB'],i=0;while(Math.abs(n)>=1000&&i<4){n/=1000;i++;}
 return (i?n.toPrecision(3):String(n))+' '+u[i];}
function el(tag,attrs,text){var ns=tag==='svg'||tag==='rect'||tag==='text'||tag==='title'||
 tag==='g'||tag==='line'?'http://www.w3.org/2000/svg':null;
 var e=ns?document.createElementNS(ns,tag):document.createElement(tag);
 for(var k in attrs||{}){e.setAttribute(k,attrs[k]);} if(text!==undefined){e.textContent=text;}
 return e;}
var s=data.summary;
var cards=[['wasted bytes (exact)',fmt(s.wastedBytes)],
 ['wasted share of layers',(s.wastedPercent*100).toFixed(1)+' %'],
 ['efficiency (dive)',(s.efficiency*100).toFixed(2)+' %'],
 ['layers',String(data.layers.length)],['bytes in layers',fmt(s.sizeBytes)],
 ['bytes in final image',fmt(s.finalBytes)],['duplicate bytes',fmt(s.duplicateBytes)]];
var box=document.getElementById('cards');
cards.forEach(function(c){var d=el('div',{'class':'card'});d.appendChild(el('div',{'class':'v'},c[1]));
 d.appendChild(el('div',{'class':'k'},c[0]));box.appendChild(d);});
// the chart: one bar per layer, kept bytes then wasted bytes
var layers=data.layers,max=1;layers.forEach(function(l){max=Math.max(max,l.sizeBytes);});
var W=960,row=26,left=70,right=260,H=layers.length*row+30;
var svg=el('svg',{id:'layer-chart',width:W,height:H,viewBox:'0 0 '+W+' '+H,role:'img',
 'aria-label':'layer sizes and wasted bytes'});
layers.forEach(function(l,i){var y=10+i*row,span=W-left-right;
 var kept=Math.max(0,l.sizeBytes-l.wastedBytes),wk=span*kept/max,ww=span*l.wastedBytes/max;
 svg.appendChild(el('text',{x:8,y:y+15,'font-size':12},'#'+l.index+(l.base?' base':'')));
 var r1=el('rect',{'class':'bar-kept',x:left,y:y,width:Math.max(wk,0.5),height:row-8,
  fill:'#4b7bec',rx:2});r1.appendChild(el('title',{},'layer '+l.index+': '+fmt(kept)+' kept'));
 svg.appendChild(r1);
 var r2=el('rect',{'class':'bar-wasted',x:left+wk,y:y,width:ww,height:row-8,fill:'#eb3b5a',
  rx:2});r2.appendChild(el('title',{},'layer '+l.index+': '+fmt(l.wastedBytes)+' wasted'));
 svg.appendChild(r2);
 svg.appendChild(el('text',{x:left+wk+ww+6,y:y+15,'font-size':12,fill:'#5b6673'},
  fmt(l.sizeBytes)+(l.wastedBytes?' ('+fmt(l.wastedBytes)+' wasted)':'')));});
document.getElementById('chart').appendChild(svg);
// findings
var ft=document.getElementById('findings');
if(!data.findings.length){ft.appendChild(el('p',{},'No findings.'));}
data.findings.forEach(function(f){var p=el('div',{'class':'finding'});
 var h=el('div');h.appendChild(el('span',{'class':'sev-'+f.severity},f.severity.toUpperCase()+' '));
 h.appendChild(el('b',{},f.title+' '));h.appendChild(el('span',{'class':'mono'},fmt(f.bytes)));
 p.appendChild(h);
 if(f.step){p.appendChild(el('div',{'class':'mono'},'layer '+f.layer+': '+f.step));}
 if(f.detail){p.appendChild(el('div',{},f.detail));}
 p.appendChild(el('div',{'class':'fix'},'fix: '+f.fix));p.appendChild(el('hr'));ft.appendChild(p);});
// layers and their changes
var lt=document.getElementById('layers');
layers.forEach(function(l){var d=el('details');
 d.appendChild(el('summary',{},'#'+l.index+'  '+fmt(l.sizeBytes)+'  +'+l.addedCount+' ~'+
  l.modifiedCount+' -'+l.deletedCount+'  '+(l.step.createdBy||l.step.comment).slice(0,140)));
 if(l.addedCount+l.modifiedCount+l.deletedCount>l.added.length+l.modified.length+
  l.deleted.length){d.appendChild(el('p',{'class':'mono'},
  'first '+MAX+' of each kind shown; lamina analyze --format json lists them all'));}
 var t=el('table');[['add','+',l.added],['mod','~',l.modified],['del','-',l.deleted]].forEach(
  function(g){g[2].forEach(function(c){var tr=el('tr');tr.appendChild(el('td',{'class':g[0]},g[1]));
   tr.appendChild(el('td',{'class':'mono'},c.path));tr.appendChild(el('td',{'class':'n'},fmt(c.size)));
   t.appendChild(tr);});});
 d.appendChild(t);lt.appendChild(d);});
var it=document.getElementById('inefficient');
data.inefficientFiles.slice(0,50).forEach(function(x){var tr=el('tr');
 tr.appendChild(el('td',{'class':'n'},String(x.count)));
 tr.appendChild(el('td',{'class':'n'},fmt(x.cumulativeBytes)));
 tr.appendChild(el('td',{'class':'mono'},x.path));it.appendChild(tr);});
document.body.setAttribute('data-rendered','ok');
})();
"""


def _trim(doc: dict[str, Any]) -> dict[str, Any]:
    for layer in doc["layers"]:
        for key in ("added", "modified", "deleted"):
            layer[key + "Count"] = len(layer[key])
            layer[key] = layer[key][:MAX_LIST]
    for key in ("wasted", "inefficientFiles", "duplicates", "directories"):
        doc[key] = doc[key][:MAX_LIST]
    doc["maxList"] = MAX_LIST
    return doc


def render_html(analysis: Analysis, findings: list[Finding]) -> str:
    doc = _trim(report(analysis, findings))
    payload = json.dumps(doc).replace("</", "<\\/")
    title = html.escape(analysis.name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lamina analyze: {title}</title><style>{_CSS}</style></head>
<body>
<header><h1>{title}</h1><div class="id">{html.escape(analysis.image_id)}</div></header>
<main>
<div class="cards" id="cards"></div>
<section><h2>Layer sizes and waste</h2>
<div class="legend"><span style="background:#4b7bec"></span>bytes that reach the final image
<span style="background:#eb3b5a"></span>wasted bytes (overwritten or deleted later)</div>
<div id="chart"></div></section>
<section><h2>Findings</h2><div id="findings"></div></section>
<section><h2>Layers</h2><div id="layers"></div></section>
<section><h2>Inefficient files (dive)</h2><table><thead><tr><th class="n">count</th>
<th class="n">wasted space</th><th>path</th></tr></thead><tbody id="inefficient"></tbody>
</table></section>
</main>
<script type="application/json" id="report-data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""


def write_html(path: Path, analysis: Analysis, findings: list[Finding]) -> None:
    path.write_text(render_html(analysis, findings), encoding="utf-8")
