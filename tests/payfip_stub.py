"""PayFiP's SOAP web service, stubbed at its transport: a requests adapter mounted on the session of
zeep's transport, so eopayment's payfip_ws and zeep run for real (WSDL, XML requests and answers,
faults) and only the network is replaced. Modes: answering, down (connection refused), timeout,
garbage (an HTML error page), hang (a real local server that accepts and never answers)."""
from __future__ import annotations

import datetime as dt
import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import requests
import zeep.transports
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from services.core import clock

PAYFIP_HOST = "https://www.payfip.gouv.fr/"
SERVICE_NS = ("http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
              "contrat_paiement_securise/PaiementSecuriseService")
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>{}</S:Body></S:Envelope>')


@dataclass
class BankRecord:
    """What PayFiP knows of one idop: nothing yet (P5), or the parent's result."""

    montant: str  # cents, as PayFiP writes it
    resultrans: str = ""  # "" (no payment yet: fault P5), P paid, R refused, A abandoned
    when: dt.datetime | None = None  # Paris time of the result (dattrans/heurtrans)
    refdet: str = ""


@dataclass
class PayfipStub(BaseAdapter):
    mode: str = "ok"  # ok, down, timeout, garbage, hang
    records: dict[str, BankRecord] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # SOAP operations asked, in order
    hang_address: tuple[str, int] | None = None
    delay: float = 0.0  # seconds before answering (a slow PayFiP, to widen races)

    def __post_init__(self):
        super().__init__()

    # --- what a test does at "the bank" -----------------------------------------------------

    def pay(self, idop: str, result: str = "P", montant: str | None = None, when: dt.datetime | None = None) -> None:
        """The parent finishes at PayFiP: P paid, R refused, A abandoned (montant defaults to the asked one)."""
        record = self.records[idop]
        record.resultrans = result
        if montant is not None:
            record.montant = montant
        record.when = when or clock.local_now()

    @property
    def last_idop(self) -> str:
        return list(self.records)[-1]

    # --- the transport --------------------------------------------------------------------------

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        operation = _operation(body)
        self.calls.append(operation)
        if self.delay:
            time.sleep(self.delay)
        if self.mode == "down":
            raise requests.ConnectionError("[Errno 111] Connection refused (stub)")
        if self.mode == "timeout":
            raise requests.ReadTimeout("Read timed out. (stub)")
        if self.mode == "hang":
            host, port = self.hang_address
            request.url = f"http://{host}:{port}/tpa/services/securite"
            return HTTPAdapter().send(request, stream=stream, timeout=timeout)
        if self.mode == "garbage":
            return _response(request, 502, "<html><body>502 Bad Gateway</body></html>", "text/html")
        if operation == "creerPaiementSecurise":
            idop = uuid.uuid4().hex
            self.records[idop] = BankRecord(montant=_text(body, "montant"), refdet=_text(body, "refdet"))
            return _response(request, 200, ENVELOPE.format(
                f'<ns2:creerPaiementSecuriseResponse xmlns:ns2="{SERVICE_NS}"><return><idOp>{idop}</idOp>'
                '</return></ns2:creerPaiementSecuriseResponse>'))
        if operation == "recupererDetailPaiementSecurise":
            idop = _text(body, "idOp")
            record = self.records.get(idop)
            if record is None:
                return _fault(request, "P1", "IdOp incorrect")
            if not record.resultrans:
                return _fault(request, "P5", "Résultat de la transaction non connu")
            when = record.when or clock.local_now()
            return _response(request, 200, ENVELOPE.format(
                f'<ns2:recupererDetailPaiementSecuriseResponse xmlns:ns2="{SERVICE_NS}"><return>'
                f'<dattrans>{when:%d%m%Y}</dattrans><exer>{when.year}</exer><heurtrans>{when:%H%M}</heurtrans>'
                f'<idOp>{idop}</idOp><mel>famille@example.fr</mel><montant>{record.montant}</montant>'
                f'<numauto>{"112233" if record.resultrans == "P" else ""}</numauto><numcli>123456</numcli>'
                f'<objet>Facture</objet><refdet>{record.refdet}</refdet><resultrans>{record.resultrans}</resultrans>'
                '<saisie>T</saisie></return></ns2:recupererDetailPaiementSecuriseResponse>'))
        return _fault(request, "S1", f"opération inconnue {operation}")

    def close(self):
        pass


def _operation(body: str) -> str:
    try:
        envelope = ET.fromstring(body)
    except ET.ParseError:
        return ""
    for element in envelope.iter():
        if element.tag.endswith("}Body"):
            for child in element:
                return child.tag.rsplit("}", 1)[-1]
    return ""


def _text(body: str, name: str) -> str:
    for element in ET.fromstring(body).iter():
        if element.tag.rsplit("}", 1)[-1] == name:
            return element.text or ""
    return ""


def _fault(request, code: str, message: str):
    return _response(request, 500, ENVELOPE.format(
        '<S:Fault><faultcode>S:Server</faultcode>'
        '<faultstring>fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur</faultstring>'
        f'<detail><ns2:FonctionnelleErreur xmlns:ns2="{SERVICE_NS}"><code>{code}</code>'
        f'<descriptif>{message}</descriptif><libelle>{message}</libelle><severite>2</severite>'
        '</ns2:FonctionnelleErreur></detail></S:Fault>'))


def _response(request, status: int, text: str, content_type: str = "text/xml; charset=utf-8"):
    response = requests.Response()
    response.status_code = status
    response._content = text.encode()
    response.headers = CaseInsensitiveDict({"Content-Type": content_type})
    response.encoding = "utf-8"
    response.url = request.url
    response.request = request
    response.reason = "OK" if status == 200 else "Error"
    return response


class SilentServer:
    """A TCP server that accepts connections and never answers (a PayFiP that hangs)."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.address = self.socket.getsockname()
        self.clients: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            self.clients.append(client)  # kept open, never answered

    def close(self):
        self.socket.close()
        for client in self.clients:
            client.close()


def install(monkeypatch) -> PayfipStub:
    """Mount a fresh stub on every zeep transport created from now on (eopayment makes one per payment)."""
    stub = PayfipStub()
    original = zeep.transports.Transport.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.session.mount(PAYFIP_HOST, stub)

    monkeypatch.setattr(zeep.transports.Transport, "__init__", init)
    return stub
