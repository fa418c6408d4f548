import { NexoSecurityManager } from '@adyen/api-library/lib/src/security/clouddevice';
import type { MessageHeader } from '@adyen/api-library/lib/src/typings/tapi/messageHeader';
import type { SaleToPOISecuredMessage } from '@adyen/api-library/lib/src/typings/clouddevice/saleToPOISecuredMessage';

/**
 * The peer: Adyen's NexoSecurityManager (key derived once, AES-256-CBC with a
 * random IV nonce, HMAC-SHA256), on a Terminal API payment request and
 * response of about the size of the Wonder ones.
 *
 * Like for like with the package: encode goes from the request object to the
 * wire text, decode from the wire text to the checked response object.
 */
export interface AdyenPeer {
  encode(): string;
  decode(wire: string): unknown;
  /** Only the manager's calls, on a ready JSON string / parsed secured message. */
  encryptOnly(): SaleToPOISecuredMessage;
  decryptOnly(): string;
  responseWire: string;
  requestPlaintextBytes: number;
  responsePlaintextBytes: number;
}

export function adyenPeer(referenceID: string, timestamp: string): AdyenPeer {
  const manager = new NexoSecurityManager({ passphrase: 'bench-passphrase-0001', keyIdentifier: 'BenchKey', keyVersion: 1, adyenCryptoVersion: 1 });
  const header = (type: 'Request' | 'Response'): MessageHeader =>
    ({
      MessageClass: 'Service',
      MessageCategory: 'Payment',
      MessageType: type,
      ServiceID: '1112101104',
      SaleID: 'NODE-RED-GW-0001',
      POIID: 'V400m-346403161',
    }) as unknown as MessageHeader;
  const requestHeader = header('Request');
  const request = () => ({
    SaleToPOIRequest: {
      MessageHeader: requestHeader,
      PaymentRequest: {
        SaleData: { SaleTransactionID: { TransactionID: referenceID, TimeStamp: timestamp } },
        PaymentTransaction: { AmountsReq: { Currency: 'HKD', RequestedAmount: 12.0 } },
      },
    },
  });
  const responseText = JSON.stringify({
    SaleToPOIResponse: {
      MessageHeader: header('Response'),
      PaymentResponse: {
        Response: { Result: 'Success' },
        SaleData: { SaleTransactionID: { TransactionID: referenceID, TimeStamp: timestamp } },
        POIData: { POITransactionID: { TransactionID: '8816178952380553', TimeStamp: timestamp } },
        PaymentResult: {
          PaymentInstrumentData: { CardData: { PaymentBrand: 'visa', MaskedPan: '476173******0119', EntryMode: ['Contactless'] } },
          AmountsResp: { AuthorizedAmount: 12.0, Currency: 'HKD' },
        },
      },
    },
  });
  const responseSecured = manager.encrypt(responseText, header('Response'));
  const responseWire = JSON.stringify({ SaleToPOIResponse: responseSecured });
  const requestText = JSON.stringify(request());

  return {
    encode: () => {
      const secured = manager.encrypt(JSON.stringify(request()), requestHeader);
      return JSON.stringify({ SaleToPOIRequest: secured });
    },
    decode: (wire: string) => {
      const outer = JSON.parse(wire) as { SaleToPOIResponse: SaleToPOISecuredMessage };
      const plain = JSON.parse(manager.decrypt(outer.SaleToPOIResponse)) as { SaleToPOIResponse?: { PaymentResponse?: { Response?: { Result?: string } } } };
      if (plain.SaleToPOIResponse?.PaymentResponse?.Response?.Result !== 'Success') throw new Error('Adyen response not Success');
      return plain;
    },
    encryptOnly: () => manager.encrypt(requestText, requestHeader),
    decryptOnly: () => manager.decrypt(responseSecured),
    responseWire,
    requestPlaintextBytes: Buffer.byteLength(requestText),
    responsePlaintextBytes: Buffer.byteLength(responseText),
  };
}
