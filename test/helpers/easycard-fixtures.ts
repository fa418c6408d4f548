import type { Scan2PayResponse } from '../../lib/easycard';

// The seed's failed payment (004, "Payment Retry (EasyCard)") and its two replies, verbatim.
export const SEED_FAILED: Scan2PayResponse = {
  Header: { StatusCode: '0000', StatusDesc: 'STATUS_SUCCESS', Method: '31800', ServiceType: 'Payment', MchId: 'Account0001', ResponseTime: '20180920152235' },
  Data: {
    request: {
      Amount: '1', Retry: '0', BatchNumber: '18092000', SameCard: '0', ServiceType: 'Payment', TerminalID: '08300000', DeviceID: '01301234',
      TerminalTXNNumber: '152226', HostSerialNumber: '152226', Time: '152226', Date: '20180920', AESKey: 'ae83eef21d....f18a2644',
    },
    TXNResult: 'Fail', Retry: '1', ErrorCode: '000125', OrderId: 'PO123456', NewAESKey: '',
  },
};
export const SEED_RETRY1_FAILED: Scan2PayResponse = {
  Header: { StatusCode: '0000', StatusDesc: 'STATUS_SUCCESS', Method: '31800', ServiceType: 'Payment', MchId: 'Acoount0001', ResponseTime: '20180920152538' },
  Data: {
    request: {
      Amount: '1', Retry: '1', BatchNumber: '18092000', SameCard: '1', ServiceType: 'Payment', TerminalID: '08300000', DeviceID: '01301234',
      TerminalTXNNumber: '152226', HostSerialNumber: '152226', Time: '152531', Date: '20180920', AESKey: 'ae83eef21d482......18a2644',
    },
    TXNResult: 'Fail', Retry: '2', ErrorCode: '000125', OrderId: 'PO123456', NewAESKey: '',
  },
};
export const SEED_RETRY2_SUCCESS: Scan2PayResponse = {
  Header: { StatusCode: '0000', StatusDesc: 'STATUS_SUCCESS', Method: '31800', ServiceType: 'Payment', MchId: 'Account0001', ResponseTime: '20180920152640' },
  Data: {
    EZCardID: '949104293', EZCardType: '00', PersonalProfile: '00', CardNumberForPrint: '949104293', Amount: '1', Balance: '1917', BeforeTXNBalance: '1918',
    TerminalTXNNumber: '152226', HostSerialNumber: '152226', Time: '152226', Date: '20180920', ExpiryDate: '20191230', CPUPurseVersion: '00', BankCode: '00',
    AreaCode: '01', AutoTopUpAmount: '0',
    request: {
      Amount: '1', Retry: '2', BatchNumber: '18092000', SameCard: '1', ServiceType: 'Payment', TerminalID: '08300000', DeviceID: '01301234',
      TerminalTXNNumber: '152226', HostSerialNumber: '152226', Time: '152637', Date: '20180920', AESKey: 'ae83eef....bf18a2644',
    },
    TXNResult: 'Success', Retry: '0', ErrorCode: '000000', OrderId: 'PO123456', DongleDeviceID: '0C100DE0A57E', RRNumber: '18092015222676',
    TXNType: 'Payment', NewAESKey: 'b9007bf485....9523d9783', DeviceNumber: '0830000001301234',
  },
};
